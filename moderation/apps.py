from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """The admin of conversations and messages: moderation actions, filters and exports; no models."""

    name = "moderation"
