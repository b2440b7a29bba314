from django.apps import AppConfig


class DatacareConfig(AppConfig):
    """Export or delete a user's data, purge old conversations, export an anonymised dataset; no models."""

    name = "datacare"
