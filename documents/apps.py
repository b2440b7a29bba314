from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        from documents import originals  # noqa: F401 - connects the receiver that deletes originals
