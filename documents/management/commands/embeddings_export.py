from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from documents.embeddings_export import ExportError, export_onnx


class Command(BaseCommand):
    help = (
        "Export the embedding model to ONNX for EMBEDDING_BACKEND=onnx and onnx-int8: model.onnx (fp32) and "
        "model-int8.onnx (int8 weights) in EMBEDDING_ONNX_DIR, made from the bundled model's own weights "
        "(nothing is downloaded) and checked against the torch model. Does nothing when the export there "
        "is already of the same model; make run and make test call it."
    )
    # It must run before anything else works with an ONNX backend, checks included.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help=f"Folder to write (default: EMBEDDING_ONNX_DIR, {settings.EMBEDDING_ONNX_DIR})."
        )
        parser.add_argument("--force", action="store_true", help="Export again even if the folder is up to date.")

    def handle(self, *args, output: Path | None, force: bool, **options):
        folder = output or Path(settings.EMBEDDING_ONNX_DIR)
        try:
            result = export_onnx(folder=folder, force=force, say=self.stdout.write)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        if not result.written:
            self.stdout.write(f"The ONNX export in {folder} is up to date; nothing to do (--force exports again).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote the ONNX export to {folder} in {result.seconds:.0f} s; lowest cosine with torch: "
                f"fp32 {result.fp32_cosine:.6f}, int8 {result.int8_cosine:.4f}."
            )
        )
