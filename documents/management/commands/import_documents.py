from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from documents.collections import collection_get_or_create, personal_collection
from documents.extract import SUPPORTED_SUFFIXES
from documents.jobs import import_job_start
from documents.models import PERSONAL_NOT_SHARED, Collection, Visibility
from documents.services import SourceFile, documents_import, find_source_files
from ragchat.commands import user_named

DEFAULT_COLLECTION = "default"


class Command(BaseCommand):
    help = (
        "Import documents into the knowledge base. Folders are read recursively; supported files: "
        + ", ".join(SUPPORTED_SUFFIXES)
        + ". Unchanged files are skipped, changed files replace their old chunks, and unreadable "
        "files are reported and skipped (the exit status is then 1). Where they go: --collection NAME "
        "(made if new, with --owner and --visibility); --owner USER alone imports into that user's "
        "personal collection, “My documents”, which only they read (made if needed); neither imports "
        "into the organisation-wide collection `default`. With --queue the files are copied to the "
        "storage and a worker (`make worker`) imports them: for large imports, or workers on other machines."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path, help="Files or folders to import.")
        parser.add_argument(
            "--collection",
            help="Collection to import into (default: the --owner's “My documents”, or `default` without --owner).",
        )
        parser.add_argument(
            "--owner",
            help="User who owns the collection if it is new (default: nobody; staff manage it). Without "
            "--collection: the user whose personal collection, “My documents”, the documents go into.",
        )
        parser.add_argument(
            "--visibility",
            choices=Visibility.values,
            help="Who reads the collection if it is new: private (owner and members) or organisation "
            "(everyone signed in). Default: organisation without --owner, private with one. A personal "
            "collection is always private.",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Do not import here: copy the files to the storage (MEDIA_ROOT or S3) and queue a job that a "
            "worker runs; prints the job's number and returns.",
        )

    def handle(self, *args, paths: list[Path], collection: str | None, owner: str | None, verbosity: int, **options):
        missing = [str(path) for path in paths if not path.exists()]
        if missing:
            raise CommandError(f"No such file or folder: {', '.join(missing)}")
        target = _target_collection(collection, owner, options["visibility"])
        if options["queue"]:
            return self._queue(paths, target)
        total = sum(1 for _ in find_source_files(paths))
        with tqdm(total=total, unit="file", desc="Importing", disable=verbosity == 0 or total == 0) as bar:
            report = documents_import(paths=paths, collection=target.name, on_file_done=lambda _: bar.update())

        for path, reason in report.failed:
            self.stderr.write(self.style.ERROR(f"FAILED  {path}: {reason}"))
        for path in report.empty:
            self.stdout.write(self.style.WARNING(f"EMPTY   {path}: no text found, skipped"))
        personal = f" (“{target.title}” of {target.owner.get_username()})" if target.personal else ""
        self.stdout.write(
            f"Collection {target.name!r}{personal}: {len(report.added)} added, {len(report.replaced)} replaced, "
            f"{len(report.unchanged)} unchanged, {len(report.empty)} empty, {len(report.failed)} failed; "
            f"{report.chunks_written} chunks written."
        )
        if report.failed:
            raise CommandError(f"{len(report.failed)} file(s) could not be imported (listed above).", returncode=1)
        self.stdout.write(self.style.SUCCESS("Import finished."))

    def _queue(self, paths: list[Path], target: Collection) -> None:
        limit = settings.MAX_IMPORT_FILE_BYTES
        sources, too_large = [], []
        for source in find_source_files(paths):
            (too_large if source.location.stat().st_size > limit else sources).append(source)
        for source in too_large:
            self.stderr.write(self.style.ERROR(f"FAILED  {source.path}: larger than MAX_IMPORT_FILE_BYTES, not queued"))
        try:
            job = import_job_start(collection=target, files=_opened(sources))
        except OSError as exc:
            raise CommandError(
                f"Nothing was queued: {exc.filename or ''} could not be stored ({exc.strerror})."
            ) from None
        self.stdout.write(
            f"Import job {job.pk} queued: {len(sources)} file(s) into {target.name!r}. A worker imports them "
            "(make worker); follow the job in the admin (Import jobs) or on the collection's page."
        )
        if too_large:
            raise CommandError(f"{len(too_large)} file(s) too large to import (listed above).", returncode=1)
        self.stdout.write(self.style.SUCCESS("Import queued."))


def _opened(sources: list[SourceFile]) -> Iterator[tuple[str, File]]:
    """Each file opened in turn, and closed once stored: a folder of any size holds one open at a time."""
    for source in sources:
        with source.location.open("rb") as stream:
            yield source.path, File(stream, name=source.location.name)


def _target_collection(name: str | None, username: str | None, visibility: str | None) -> Collection:
    """The collection to import into, made if new: the named one (with this owner and visibility if
    it is new; an existing one is kept as it is), else the owner's personal one, else `default`.

    A personal collection is refused with --visibility organisation before anything is made.
    """
    owner = user_named(username) if username else None
    if name is None and owner is not None:
        if visibility == Visibility.ORGANISATION:
            raise CommandError(f"--visibility organisation: {PERSONAL_NOT_SHARED} Name one with --collection.")
        return personal_collection(owner)
    name = name or DEFAULT_COLLECTION
    visibility_if_new = visibility or (Visibility.PRIVATE if owner else Visibility.ORGANISATION)
    try:
        target, _ = collection_get_or_create(name=name, owner=owner, visibility=visibility_if_new)
    except ValidationError as exc:
        raise CommandError(f"{name!r} cannot name a collection: {' '.join(exc.messages)}") from None
    if target.personal and visibility == Visibility.ORGANISATION:
        raise CommandError(f"{name!r} is a personal collection. {PERSONAL_NOT_SHARED}")
    return target
