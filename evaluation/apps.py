from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """Retrieval evaluation and the one evaluation-set format; no models of its own."""

    name = "evaluation"
