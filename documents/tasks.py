"""The worker's tasks, run by ``manage.py procrastinate worker`` (procrastinate, queue in PostgreSQL).

``import_files`` imports the pending files of an upload or import job, one file per transaction
holding that file's row lock (``FOR UPDATE SKIP LOCKED``): several tasks, on several workers, share
a job's files without ever importing one twice, and a worker killed mid-file leaves its transaction
to roll back, so the file is simply pending again. ``recover_stalled_jobs`` runs the tasks of dead
workers again, and the job finishes where it stopped.
"""

import functools
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import close_old_connections, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from documents import services
from documents.embeddings import MiniLMEmbeddings
from documents.models import ImportFile, ImportFileStatus, ImportJob, ImportJobStatus

logger = logging.getLogger(__name__)

# Imports and re-embeddings; the recovery task has the default queue, so a worker started on
# `imports` alone (`--queues imports`) still has it run by another.
IMPORT_QUEUE = "imports"


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
    embeddings = MiniLMEmbeddings()
    while _import_next_file(job_id, embeddings):
        pass
    _job_finish_if_done(job_id)


def reembed_job_run(job_id: int) -> None:
    """Run the re-embedding job ``job_id`` (services.collection_reembed)."""
    if _job_start(job_id):
        services.collection_reembed(job=ImportJob.objects.get(pk=job_id))


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


def _import_next_file(job_id: int, embeddings: MiniLMEmbeddings) -> bool:
    """Import the job's next pending file that no other task holds; False when there is none."""
    with transaction.atomic():
        pending = ImportFile.objects.filter(job_id=job_id, status=ImportFileStatus.PENDING).order_by("pk")
        file = pending.select_for_update(skip_locked=True, of=("self",)).select_related("job").first()
        if file is None:
            return False
        logger.info("Import job %s: importing %s", job_id, file.path)
        try:
            # A savepoint: a database error in this file undoes its writes, not the row lock.
            with transaction.atomic():
                services.stored_file_import(file=file, embeddings=embeddings)
        except Exception as exc:  # one broken file never stops the job: it is recorded and skipped
            logger.exception("Import job %s: %s failed", job_id, file.path)
            file.status, file.reason = ImportFileStatus.FAILED, f"could not be imported ({type(exc).__name__}: {exc})"
        file.finished_at = timezone.now()
        # Failed files keep their bytes, for "Retry failed files"; the others need them no more.
        uploaded = file.upload
        if file.status != ImportFileStatus.FAILED:
            file.upload = ""
            transaction.on_commit(lambda: default_storage.delete(uploaded))
        file.save()
    return True


def _job_finish_if_done(job_id: int) -> None:
    """Give the job its final status once no file is pending. The task whose file was the last to
    commit sees none pending, so exactly one of the job's tasks finishes it."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished or job.files.filter(status=ImportFileStatus.PENDING).exists():
            return
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
