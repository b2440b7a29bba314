from django.apps import AppConfig


class InsightConfig(AppConfig):
    """The staff page of usage and quality numbers; no models of its own."""

    name = "insight"
