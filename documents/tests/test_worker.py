"""Jobs run by real worker processes: a job imports its files, cancel, retry, a worker killed with
SIGKILL in the middle and another finishing the job, two workers sharing one job. A file holds its
worker still, inside its transaction, with workers.block() (a named pipe; no hook in the code).
"""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from conftest import KNOWLEDGE_BASE
from documents import jobs
from documents.collections import collection_get_or_create
from documents.models import Chunk, Collection, Document, ImportFileStatus, ImportJob, ImportJobStatus
from documents.tests.workers import block, feed, is_locked, stored_path, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NOTES = {
    "kettle.txt": KNOWLEDGE_BASE["kettle.txt"],
    "roses.md": KNOWLEDGE_BASE["garden/roses.md"],
    "bikes.html": KNOWLEDGE_BASE["bikes.html"],
    "tea.txt": "Tea\n\nWarm the pot before the leaves go in, and let green tea steep two minutes.",
    "bread.md": "# Bread\n\nKnead the dough ten minutes, then let it rise until it doubles.",
    "soup.txt": "Soup\n\nSweat the onions slowly before the stock goes in.",
}


def start_job(names: list[str], contents: dict[str, str | bytes] = NOTES) -> ImportJob:
    collection, _ = collection_get_or_create(name="kitchen")
    files = [(name, ContentFile(_bytes(contents[name]), name=name)) for name in names]
    return jobs.upload_job_start(collection=collection, user=None, files=files)


def _bytes(content: str | bytes) -> bytes:
    return content.encode() if isinstance(content, str) else content


def finished(job: ImportJob) -> bool:
    job.refresh_from_db()
    return job.is_finished


def file_statuses(job: ImportJob) -> dict[str, str]:
    return dict(job.files.values_list("path", "status"))


def assert_whole_documents(job: ImportJob) -> None:
    """Every imported file has one document whose passages are exactly the ones counted for it."""
    for file in job.files.exclude(document=None):
        positions = list(Chunk.objects.filter(document=file.document).values_list("position", flat=True))
        assert sorted(positions) == list(range(file.passages)), file.path
    assert Chunk.objects.count() == sum(job.files.values_list("passages", flat=True))


def test_a_worker_imports_a_jobs_files_and_progress_counts_them(start_worker):
    job = start_job(["kettle.txt", "roses.md", "bikes.html"])
    assert jobs.job_progress(job).files_done == 0

    worker = start_worker("solo")
    wait_for(lambda: finished(job), "the job to finish", [worker])

    progress = jobs.job_progress(job)
    assert (progress.status, progress.files_done, progress.files_total) == (ImportJobStatus.SUCCEEDED, 3, 3)
    assert progress.passages_written == Chunk.objects.count() > 3
    assert progress.elapsed_seconds > 0 and progress.estimated_seconds_left == 0 and progress.failures == []
    assert set(file_statuses(job).values()) == {ImportFileStatus.ADDED}
    assert not any(default_storage.exists(name) for name in job.files.values_list("upload", flat=True) if name)
    assert_whole_documents(job)


def test_cancel_stops_pending_files_and_lets_the_running_one_finish(start_worker):
    job = start_job(["kettle.txt", "roses.md", "tea.txt"])
    first = job.files.get(path="kettle.txt")
    pipe = block(first)
    # One file per transaction: files taken together with the running one would finish with it.
    worker = start_worker("cancelled", JOB_BATCH_BYTES="0")
    wait_for(lambda: is_locked(first), "the worker to hold the first file", [worker])

    jobs.job_cancel(job=job, user=None)
    assert file_statuses(job) == {"kettle.txt": "pending", "roses.md": "cancelled", "tea.txt": "cancelled"}
    feed(pipe, NOTES["kettle.txt"])
    wait_for(lambda: file_statuses(job)["kettle.txt"] != "pending", "the running file to finish", [worker])

    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED
    assert file_statuses(job) == {"kettle.txt": "added", "roses.md": "cancelled", "tea.txt": "cancelled"}
    assert list(Document.objects.values_list("path", flat=True)) == ["kettle.txt"]
    assert_whole_documents(job)


def test_retry_imports_a_failed_file_again(start_worker):
    job = start_job(["kettle.txt", "notes.txt"], {**NOTES, "notes.txt": "caf\xe9".encode("latin-1")})
    worker = start_worker("retry")
    wait_for(lambda: finished(job), "the job to finish", [worker])
    assert job.status == ImportJobStatus.PARTLY_FAILED
    [(path, reason)] = jobs.job_progress(job).failures
    assert path == "notes.txt" and reason.startswith("not valid UTF-8")
    # The cause is fixed where the bytes wait, then the failed file is retried.
    stored_path(job.files.get(path="notes.txt")).write_bytes("Notes\n\nThe café opens at nine.".encode())

    jobs.job_retry_failed(job=job, user=None)
    wait_for(lambda: finished(job), "the retried job to finish", [worker])

    assert job.status == ImportJobStatus.SUCCEEDED
    assert file_statuses(job) == {"kettle.txt": "added", "notes.txt": "added"}
    assert jobs.job_progress(job).failures == []
    assert_whole_documents(job)


def test_a_worker_killed_mid_job_leaves_no_half_document_and_another_finishes_the_job(start_worker, settings):
    settings.JOB_TASKS_PER_IMPORT = 1  # one task: only the recovery of the dead worker's task can finish it
    job = start_job(["kettle.txt", "roses.md", "tea.txt"])
    held = job.files.get(path="roses.md")
    pipe = block(held)
    # One file per transaction: the first file is committed before the worker dies in the second.
    doomed = start_worker("doomed", JOB_BATCH_BYTES="0")
    wait_for(lambda: is_locked(held), "the worker to be inside the second file", [doomed])

    doomed.kill()

    # Its transaction rolls back when PostgreSQL sees the connection drop: the file is pending again.
    wait_for(lambda: not is_locked(held), "the dead worker's lock to go")
    assert file_statuses(job) == {"kettle.txt": "added", "roses.md": "pending", "tea.txt": "pending"}
    assert list(Document.objects.values_list("path", flat=True)) == ["kettle.txt"]
    pipe.unlink()
    pipe.write_text(NOTES["roses.md"])  # the bytes are back where they wait

    rescuer = start_worker("rescuer")
    wait_for(lambda: finished(job), "the second worker to finish the job", [rescuer])

    assert job.status == ImportJobStatus.SUCCEEDED
    assert file_statuses(job) == {"kettle.txt": "added", "roses.md": "added", "tea.txt": "added"}
    assert sorted(Document.objects.values_list("path", flat=True)) == ["kettle.txt", "roses.md", "tea.txt"]
    assert_whole_documents(job)
    assert "was held by a worker that stopped; queued again" in rescuer.output()


def test_two_workers_share_a_job_and_import_each_file_exactly_once(start_worker, settings):
    settings.JOB_TASKS_PER_IMPORT = 2
    names = list(NOTES)
    job = start_job(names)
    first = job.files.get(path=names[0])
    pipe = block(first)  # holds the first worker, so the other must take the rest
    one = start_worker("one", JOB_BATCH_BYTES="0")  # only that file; the other takes the rest together
    wait_for(lambda: is_locked(first), "a worker to hold the first file", [one])
    two = start_worker("two")
    wait_for(lambda: all(s != "pending" for p, s in file_statuses(job).items() if p != names[0]), "the rest", [two])

    feed(pipe, NOTES[names[0]])
    wait_for(lambda: finished(job), "the job to finish", [one, two])

    assert job.status == ImportJobStatus.SUCCEEDED
    assert set(file_statuses(job).values()) == {ImportFileStatus.ADDED}
    logs = {worker.name: worker.output() for worker in (one, two)}
    for name in names:
        imports = sum(log.count(f"importing {name}\n") for log in logs.values())
        assert imports == 1, name
    assert f"importing {names[0]}\n" in logs["one"] and f"importing {names[1]}\n" in logs["two"]
    assert_whole_documents(job)


def test_a_collection_deleted_while_its_files_are_imported_fails_them_with_the_reason(start_worker):
    job = start_job(["kettle.txt", "roses.md"])
    first = job.files.get(path="kettle.txt")
    pipe = block(first)
    worker = start_worker("orphaned")
    wait_for(lambda: is_locked(first), "the worker to be inside the first file", [worker])

    Collection.objects.filter(name="kitchen").delete()
    feed(pipe, NOTES["kettle.txt"])
    wait_for(lambda: finished(job), "the job to finish", [worker])

    assert job.status == ImportJobStatus.FAILED and not Document.objects.exists()
    reasons = set(job.files.values_list("reason", flat=True))
    assert reasons == {"the collection 'kitchen' was deleted before this file was imported"}
