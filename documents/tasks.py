"""The worker's tasks, run by ``manage.py procrastinate worker`` (procrastinate, queue in PostgreSQL).

``import_files`` imports the pending files of an upload or import job in transactions that hold
the files' row locks (``FOR UPDATE SKIP LOCKED``; a few small files together, up to JOB_BATCH_BYTES,
a large one alone): several tasks, on several workers, share a job's files without ever importing
one twice, and a worker killed mid-file leaves its transaction to roll back, so its files are simply
pending again. ``recover_stalled_jobs`` runs the tasks of dead
workers again, and the job finishes where it stopped.
"""

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from documents import reembedding, services
from documents.embeddings import MiniLMEmbeddings
from documents.models import Collection, ImportFile, ImportFileStatus, ImportJob, ImportJobStatus

logger = logging.getLogger(__name__)

# Imports and re-embeddings; the recovery task has the default queue, so a worker started on
# `imports` alone (`--queues imports`) still has it run by another.
IMPORT_QUEUE = "imports"
# Files imported together in one transaction at most (JOB_BATCH_BYTES bounds their size).
MAX_FILES_TOGETHER = 32


def _fresh_connections(work: Callable[[int], None]) -> Callable[[int], None]:
    """Run ``work`` between two close_old_connections(), as Django does around a request: the worker
    runs tasks in a pool of threads, each keeping its own connection, which may have gone stale."""

    @functools.wraps(work)
    def run(job_id: int) -> None:
        close_old_connections()
        try:
            work(job_id)
        finally:
            close_old_connections()

    return run


def import_job_files(job_id: int) -> None:
    """Import ``job_id``'s pending files until none is left that another task does not hold."""
    if not _job_start(job_id):
        return
    if _collection_gone(job_id):
        _job_finish_if_done(job_id)
        return
    embeddings = MiniLMEmbeddings()
    while True:
        try:
            if not _import_next_files(job_id, embeddings):
                break
        except DatabaseError:
            # The collection deleted while its files were being imported fails their commit (its
            # documents' foreign key): fail the rest with that reason; any other error is the worker's.
            if not _collection_gone(job_id):
                raise
            break
    _job_finish_if_done(job_id)


def _collection_gone(job_id: int) -> bool:
    """If the job's collection was deleted after it was queued, fail its pending files, saying so."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or Collection.objects.filter(name=job.collection).exists():
        return False
    reason = f"the collection {job.collection!r} was deleted before this file was imported"
    job.files.filter(status=ImportFileStatus.PENDING).update(
        status=ImportFileStatus.FAILED, reason=reason, finished_at=timezone.now()
    )
    return True


def reembed_job_run(job_id: int) -> None:
    """Run the re-embedding job ``job_id`` (reembedding.collection_reembed)."""
    if _job_start(job_id):
        reembedding.collection_reembed(job=ImportJob.objects.get(pk=job_id))


@app.task(name="documents.import_files", queue=IMPORT_QUEUE)
def import_files(job_id: int) -> None:
    _fresh_connections(import_job_files)(job_id)


@app.task(name="documents.reembed_collection", queue=IMPORT_QUEUE)
def reembed_collection(job_id: int) -> None:
    _fresh_connections(reembed_job_run)(job_id)


def _job_start(job_id: int) -> bool:
    """Mark the job running; False if there is nothing to run (cancelled, finished, deleted)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return False
        if job.status == ImportJobStatus.QUEUED:
            job.status = ImportJobStatus.RUNNING
            job.started_at = job.started_at or timezone.now()
            job.save(update_fields=["status", "started_at"])
    return True


def _import_next_files(job_id: int, embeddings: MiniLMEmbeddings) -> bool:
    """Import the job's next pending files that no other task holds; False when there is none."""
    with transaction.atomic():
        files = _lock_next_files(job_id)
        if not files:
            return False
        for file in files:
            logger.info("Import job %s: importing %s", job_id, file.path)
        try:
            # A savepoint: a database error undoes these files' writes, not their row locks.
            with transaction.atomic():
                services.stored_files_import(files=files, embeddings=embeddings)
        except Exception:  # then each file alone, so that one broken file never stops the others
            logger.exception("Import job %s: importing %d file(s) together failed", job_id, len(files))
            for file in files:
                _import_alone(file, embeddings)
        for file in files:
            _file_finish(file)
    return True


def _lock_next_files(job_id: int) -> list[ImportFile]:
    """Lock the job's next pending file that no other task holds, and the pending files after it up
    to JOB_BATCH_BYTES in all: small files are embedded together, as import_documents does, while a
    large job still leaves files for other workers."""
    pending = ImportFile.objects.filter(job_id=job_id, status=ImportFileStatus.PENDING).order_by("pk")
    lock = pending.select_for_update(skip_locked=True, of=("self",)).select_related("job")
    first = lock.first()
    if first is None:
        return []
    following, budget = [], settings.JOB_BATCH_BYTES - first.size
    for pk, size in pending.filter(pk__gt=first.pk).values_list("pk", "size")[: MAX_FILES_TOGETHER - 1]:
        if size > budget:
            break
        following.append(pk)
        budget -= size
    # Those another task took meanwhile are skipped; they are its to import.
    return [first, *lock.filter(pk__in=following)]


def _import_alone(file: ImportFile, embeddings: MiniLMEmbeddings) -> None:
    try:
        with transaction.atomic():
            services.stored_files_import(files=[file], embeddings=embeddings)
    except Exception as exc:  # recorded with the reason, and the job goes on
        logger.exception("Import job %s: %s failed", file.job_id, file.path)
        file.status, file.reason = ImportFileStatus.FAILED, f"could not be imported ({type(exc).__name__}: {exc})"
        file.passages, file.document = 0, None


def _file_finish(file: ImportFile) -> None:
    file.finished_at = timezone.now()
    # Failed files keep their bytes, for "Retry failed files"; the others need them no more.
    uploaded = file.upload
    if file.status != ImportFileStatus.FAILED:
        file.upload = ""
        transaction.on_commit(lambda: default_storage.delete(uploaded))
    file.save()


def _job_finish_if_done(job_id: int) -> None:
    """Give the job its final status once no file is pending. The task whose file was the last to
    commit sees none pending, so exactly one of the job's tasks finishes it."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished or job.files.filter(status=ImportFileStatus.PENDING).exists():
            return  # deleted meanwhile (with its collection's data), finished, or another task's to finish
        statuses = set(job.files.values_list("status", flat=True))
        if ImportFileStatus.FAILED not in statuses:
            job.status = ImportJobStatus.SUCCEEDED
        elif statuses == {ImportFileStatus.FAILED}:
            job.status = ImportJobStatus.FAILED
        else:
            job.status = ImportJobStatus.PARTLY_FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
    logger.info("Import job %s finished: %s", job_id, job.get_status_display())


def _recovery_cron(stalled_after: int) -> str:
    """How often to look for dead workers' tasks: about twice per JOB_STALLED_AFTER (a sixth cron
    field is seconds), at most once a minute."""
    seconds = max(1, stalled_after // 2)
    return "* * * * *" if seconds >= 60 else f"* * * * * */{seconds}"


@app.periodic(cron=_recovery_cron(settings.JOB_STALLED_AFTER), periodic_id="recover_stalled_jobs")
@app.task(name="documents.recover_stalled_jobs", queueing_lock="recover_stalled_jobs", pass_context=True)
async def recover_stalled_jobs(context, timestamp: int) -> None:
    """Queue again the tasks held by workers that stopped sending heartbeats (killed, lost)."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOB_STALLED_AFTER):
        logger.warning("Task %s (%s) was held by a worker that stopped; queued again", job.id, job.task_name)
        await manager.retry_job(job)
