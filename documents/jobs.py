"""Jobs people start and watch: uploads, imports and re-embeddings queued for a worker.

The web request (or the command) stores the files and the job's rows, then returns; a worker
(``documents/tasks.py``, run by ``manage.py procrastinate worker``) does the slow part. Progress is
counted from the ImportFile rows each worker writes in the same transaction as the document, so it
is never ahead of what is stored and two workers never race on a counter.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from documents import tasks
from documents.models import (
    FILE_DONE_STATUSES,
    UNFINISHED_JOB_STATUSES,
    Collection,
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobKind,
    ImportJobStatus,
)

logger = logging.getLogger(__name__)

# Where uploaded bytes wait for a worker, in the default storage: uploads/<job id>/<n>-<file name>.
UPLOAD_FOLDER = "uploads"


@dataclass(frozen=True)
class JobProgress:
    """What a person watching a job sees; every number counted from rows as they are now."""

    status: str
    status_label: str
    files_done: int
    files_total: int
    passages_written: int
    elapsed_seconds: float
    estimated_seconds_left: float | None
    failures: list[tuple[str, str]]

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED_JOB_STATUSES


def upload_job_start(*, collection: Collection, user, files: Sequence[tuple[str, File]]) -> ImportJob:
    """Store ``files`` ((document path, file) pairs the caller validated) and queue their import.

    Returns at once: a worker imports them. Nothing is half stored: if storing one file fails, the
    files already stored are deleted, no job is recorded, and the error is raised.
    """
    return _files_job_start(kind=ImportJobKind.UPLOAD, collection=collection, user=user, files=files)


def import_job_start(*, collection: Collection, files: Iterable[tuple[str, File]], user=None) -> ImportJob:
    """As upload_job_start, for ``import_documents --queue``: the files are copied to the storage
    first, so a worker on another machine can read them."""
    return _files_job_start(kind=ImportJobKind.IMPORT, collection=collection, user=user, files=files)


def reembed_job_start(*, collection: str, user=None) -> ImportJob:
    """Queue the re-embedding of every passage of ``collection`` (reembedding.collection_reembed)."""
    with transaction.atomic():
        job = ImportJob.objects.create(kind=ImportJobKind.REEMBED, collection=collection, started_by=user)
        transaction.on_commit(lambda: tasks.reembed_collection.defer(job_id=job.pk))
    return job


def _files_job_start(*, kind: str, collection: Collection, user, files: Iterable[tuple[str, File]]) -> ImportJob:
    folder = ""
    try:
        with transaction.atomic():
            job = ImportJob.objects.create(kind=kind, collection=collection.name, started_by=user)
            folder = f"{UPLOAD_FOLDER}/{job.pk}"
            rows = []
            for number, (path, file) in enumerate(files, start=1):
                name = default_storage.save(_upload_name(folder, number, path), file)
                rows.append(ImportFile(job=job, path=path, upload=name, size=default_storage.size(name)))
            ImportFile.objects.bulk_create(rows)
            transaction.on_commit(lambda: _enqueue_import(job))
    except BaseException:
        if folder:
            _delete_folder(folder)
        raise
    logger.info("Import job %s queued: %d file(s) into %s", job.pk, len(rows), collection.name)
    return job


def _delete_folder(folder: str) -> None:
    """Delete what the storage holds in the job's folder, the part of a file whose saving failed too
    (a failed save may leave one, under a name it never returned)."""
    try:
        _, names = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in names:
        default_storage.delete(f"{folder}/{name}")


def _upload_name(folder: str, number: int, path: str) -> str:
    # The document path is kept on the row; the stored name only has to be unique and keep the
    # suffix, so nothing in a sent path (folders, dots, odd characters) shapes where bytes go.
    base = default_storage.get_valid_name(PurePosixPath(path).name) or "file"
    return f"{folder}/{number}-{base}"


def _enqueue_import(job: ImportJob) -> None:
    """Queue the tasks that import ``job``'s files; several, so that free workers can share them."""
    for _ in range(max(1, settings.JOB_TASKS_PER_IMPORT)):
        tasks.import_files.defer(job_id=job.pk)


def job_progress(job: ImportJob) -> JobProgress:
    """Files done of total, passages written, time so far and an estimate of the rest, failures."""
    job.refresh_from_db(fields=["status", "started_at", "finished_at", "chunks_written", "errors"])
    counts = job.files.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(status__in=FILE_DONE_STATUSES)),
        passages=Sum("passages", default=0),
        bytes_total=Sum("size", default=0),
        bytes_done=Sum("size", filter=Q(status__in=FILE_DONE_STATUSES), default=0),
    )
    failures = list(job.files.filter(status=ImportFileStatus.FAILED).values_list("path", "reason"))
    if job.kind == ImportJobKind.REEMBED:
        counts["passages"] = job.chunks_written
        failures = [tuple(error) for error in job.errors]
    elapsed = _elapsed(job)
    return JobProgress(
        status=job.status,
        status_label=job.get_status_display(),
        files_done=counts["done"],
        files_total=counts["total"],
        passages_written=counts["passages"],
        elapsed_seconds=elapsed,
        estimated_seconds_left=_estimate(job, elapsed, counts["bytes_done"], counts["bytes_total"]),
        failures=failures,
    )


def _elapsed(job: ImportJob) -> float:
    if job.started_at is None:
        return 0.0
    return ((job.finished_at or timezone.now()) - job.started_at).total_seconds()


def _estimate(job: ImportJob, elapsed: float, bytes_done: int, bytes_total: int) -> float | None:
    """Seconds left at the pace so far, by bytes (a big PDF takes longer than a short note);
    None until a file is done, since there is no pace to go by yet."""
    if job.is_finished:
        return 0.0
    if not bytes_done or not elapsed:
        return None
    return elapsed * (bytes_total - bytes_done) / bytes_done


def job_cancel(*, job: ImportJob, user) -> ImportJob:
    """Stop ``job``: its pending files are not imported; a file a worker is importing right now
    finishes (its document is whole) and is counted. A finished job is left as it is."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        # SKIP LOCKED: a file being imported stays with its worker, and cancelling never waits on it.
        pending = job.files.filter(status=ImportFileStatus.PENDING).select_for_update(skip_locked=True)
        cancelled = list(pending.values_list("pk", flat=True))
        ImportFile.objects.filter(pk__in=cancelled).update(status=ImportFileStatus.CANCELLED)
        job.status, job.finished_at = ImportJobStatus.CANCELLED, timezone.now()
        job.save(update_fields=["status", "finished_at"])
        transaction.on_commit(lambda: _delete_uploads(cancelled))
    logger.info("Import job %s cancelled by %s; %d file(s) not imported", job.pk, user, len(cancelled))
    return job


def collection_jobs_delete(*, collections: list[str]) -> int:
    """Delete the jobs of these collections (by name), their files' rows and, after the commit, the
    bytes still waiting in the storage; for when a collection's data goes (a user's "My documents").
    A worker on one of them finds it gone and stops. Returns how many jobs were deleted."""
    jobs = ImportJob.objects.filter(collection__in=collections)
    file_ids = list(ImportFile.objects.filter(job__in=jobs).exclude(upload="").values_list("pk", flat=True))
    uploads = list(ImportFile.objects.filter(pk__in=file_ids).values_list("upload", flat=True))
    transaction.on_commit(lambda: [default_storage.delete(name) for name in uploads])
    return jobs.delete()[1].get(ImportJob._meta.label, 0)


def _delete_uploads(file_ids: list[int]) -> None:
    for name in ImportFile.objects.filter(pk__in=file_ids).exclude(upload="").values_list("upload", flat=True):
        default_storage.delete(name)


def job_retry_failed(*, job: ImportJob, user) -> ImportJob:
    """Put ``job``'s failed files that still have their bytes back in the queue, and run the job again.

    Only for a finished job (a running one is still working on them); returns it unchanged when it
    has no file to retry."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        failed = job.files.filter(status=ImportFileStatus.FAILED).exclude(upload="")
        if not job.is_finished or job.kind == ImportJobKind.REEMBED or not failed.exists():
            return job
        retried = failed.update(status=ImportFileStatus.PENDING, reason="", finished_at=None)
        job.status, job.finished_at = ImportJobStatus.QUEUED, None
        job.save(update_fields=["status", "finished_at"])
        transaction.on_commit(lambda: _enqueue_import(job))
    logger.info("Import job %s: %d failed file(s) queued again by %s", job.pk, retried, user)
    return job


def may_retry(job: ImportJob) -> bool:
    """Whether "Retry failed files" would do something for ``job``."""
    if not job.is_finished or job.kind == ImportJobKind.REEMBED:
        return False
    return job.files.filter(status=ImportFileStatus.FAILED).exclude(upload="").exists()
