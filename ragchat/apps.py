from django.apps import AppConfig


class RagchatConfig(AppConfig):
    """The project package as an app, for the cross-cutting pieces that need a table (rate limits)."""

    name = "ragchat"
    default_auto_field = "django.db.models.BigAutoField"
