from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.collections import collection_get_or_create
from documents.extract import SUPPORTED_SUFFIXES
from documents.models import Visibility
from documents.services import documents_import, find_source_files
from ragchat.commands import user_named


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
        parser.add_argument(
            "--owner", help="User who owns the collection if it is new (default: nobody; staff manage it)."
        )
        parser.add_argument(
            "--visibility",
            choices=Visibility.values,
            help="Who reads the collection if it is new: private (owner and members) or organisation "
            "(everyone signed in). Default: organisation without --owner, private with one.",
        )

    def handle(self, *args, paths: list[Path], collection: str, owner: str | None, verbosity: int, **options):
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        _ensure_collection(collection, owner, options["visibility"])
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


def _ensure_collection(name: str, username: str | None, visibility: str | None) -> None:
    """Make the collection with this owner and visibility if it is new; an existing one is kept as it is."""
    owner = user_named(username) if username else None
    visibility = visibility or (Visibility.PRIVATE if owner else Visibility.ORGANISATION)
    try:
        collection_get_or_create(name=name, owner=owner, visibility=visibility)
    except ValidationError as exc:
        raise CommandError(f"{name!r} cannot name a collection: {' '.join(exc.messages)}") from None
