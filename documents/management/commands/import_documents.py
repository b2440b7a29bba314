from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.extract import SUPPORTED_SUFFIXES
from documents.services import documents_import, find_source_files


class Command(BaseCommand):
    help = (
        "Import documents into the knowledge base. Folders are read recursively; supported files: "
        + ", ".join(SUPPORTED_SUFFIXES)
        + ". Unchanged files are skipped, changed files replace their old chunks, and unreadable "
        "files are reported and skipped (the exit status is then 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders to import.")
        parser.add_argument("--collection", default="default", help="Collection to import into (default: default).")

    def handle(self, *args, paths: list[Path], collection: str, verbosity: int, **options):
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        total = sum(1 for _ in find_source_files(paths))
        with tqdm(total=total, unit="file", desc="Importing", disable=verbosity == 0 or total == 0) as bar:
            report = documents_import(paths=paths, collection=collection, on_file_done=lambda _: bar.update())

        for path, reason in report.failed:
            self.stderr.write(self.style.ERROR(f"FAILED  {path}: {reason}"))
        for path in report.empty:
            self.stdout.write(self.style.WARNING(f"EMPTY   {path}: no text found, skipped"))
        self.stdout.write(
            f"Collection {collection!r}: {len(report.added)} added, {len(report.replaced)} replaced, "
            f"{len(report.unchanged)} unchanged, {len(report.empty)} empty, {len(report.failed)} failed; "
            f"{report.chunks_written} chunks written."
        )
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) could not be imported (listed above).", returncode=1)
        self.stdout.write(self.style.SUCCESS("Import finished."))
