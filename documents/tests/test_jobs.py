"""Starting jobs (documents/jobs.py): files stored first and nothing half stored, progress counted
from the file rows, and import_documents --queue."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.management import CommandError

from conftest import KNOWLEDGE_BASE, run_command
from documents import jobs
from documents.collections import collection_get_or_create
from documents.models import Document, ImportFile, ImportJob, ImportJobStatus
from documents.services import documents_import
from documents.templatetags.jobs import duration
from documents.tests.conftest import run_jobs


def media(settings) -> Path:
    return Path(settings.STORAGES["default"]["OPTIONS"]["location"])


def stored_files(settings) -> list[str]:
    return sorted(p.relative_to(media(settings)).as_posix() for p in media(settings).rglob("*") if p.is_file())


class UnreadableAfter(io.BytesIO):
    """A file whose reading fails part-way, as a dropped network share or a full disk would."""

    def read(self, size=-1):
        raise OSError(5, "Input/output error")


@pytest.fixture
def kitchen(db):
    return collection_get_or_create(name="kitchen")[0]


def test_an_upload_is_stored_with_one_row_per_file_and_queued(kitchen, settings, alice):
    job = jobs.upload_job_start(
        collection=kitchen,
        user=alice,
        files=[("kettle.txt", ContentFile(b"Kettle\n\nDescale it.")), ("notes/tea.md", ContentFile(b"# Tea"))],
    )

    assert (job.status, job.kind, job.started_by, job.collection) == (
        ImportJobStatus.QUEUED,
        "upload",
        alice,
        "kitchen",
    )
    rows = list(job.files.values_list("path", "upload", "size", "status"))
    assert rows == [
        ("kettle.txt", f"uploads/{job.pk}/1-kettle.txt", 19, "pending"),
        ("notes/tea.md", f"uploads/{job.pk}/2-tea.md", 5, "pending"),
    ]
    assert stored_files(settings) == [f"uploads/{job.pk}/1-kettle.txt", f"uploads/{job.pk}/2-tea.md"]


def test_a_file_that_cannot_be_stored_leaves_nothing_stored_and_no_job(kitchen, settings):
    files = [("kettle.txt", ContentFile(b"Kettle\n\nDescale it.")), ("broken.txt", File(UnreadableAfter(), "b.txt"))]

    with pytest.raises(OSError, match="Input/output error"):
        jobs.upload_job_start(collection=kitchen, user=None, files=files)

    assert not ImportJob.objects.exists() and not ImportFile.objects.exists()
    assert stored_files(settings) == []


def test_progress_counts_rows_and_estimates_from_the_bytes_done(kitchen):
    job = jobs.upload_job_start(
        collection=kitchen,
        user=None,
        files=[(name, ContentFile(KNOWLEDGE_BASE[name].encode())) for name in ["kettle.txt", "garden/roses.md"]],
    )
    assert jobs.job_progress(job).estimated_seconds_left is None  # no pace yet

    run_jobs()

    progress = jobs.job_progress(job)
    assert (progress.status, progress.files_done, progress.files_total) == ("succeeded", 2, 2)
    assert progress.passages_written == sum(d.chunks.count() for d in Document.objects.all()) > 0
    assert progress.estimated_seconds_left == 0.0 and progress.finished


def test_a_running_jobs_estimate_follows_the_pace_so_far(kitchen):
    files = [("a.txt", ContentFile(b"A" * 100)), ("b.txt", ContentFile(b"B" * 300))]
    job = jobs.upload_job_start(collection=kitchen, user=None, files=files)
    started = job.queued_at - timedelta(seconds=10)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.RUNNING, started_at=started)
    job.files.filter(path="a.txt").update(status="added", passages=1)

    progress = jobs.job_progress(job)

    # 100 bytes done so far, 300 to go: three times as long again.
    assert progress.files_done == 1 and progress.elapsed_seconds >= 10
    assert progress.estimated_seconds_left == pytest.approx(3 * progress.elapsed_seconds)


def test_durations_read_as_people_say_them():
    assert [duration(s) for s in [None, 0.4, 59, 61, 3600 + 125]] == [
        "unknown",
        "0 s",
        "59 s",
        "1 min 1 s",
        "1 h 2 min",
    ]


def passages_of(collection: str) -> dict[str, list[str]]:
    documents = Document.objects.filter(collection=collection)
    return {d.path: list(d.chunks.values_list("text", flat=True)) for d in documents}


def test_import_documents_queue_stores_the_files_and_a_worker_imports_them_as_the_command_would(db, docs_dir, settings):
    out, _ = run_command("import_documents", str(docs_dir), "--collection", "queued", "--queue")

    job = ImportJob.objects.get()
    assert f"Import job {job.pk} queued: 3 file(s) into 'queued'" in out and job.kind == "import"
    assert sorted(job.files.values_list("path", flat=True)) == ["bikes.html", "garden/roses.md", "kettle.txt"]
    assert not Document.objects.exists()
    run_jobs()
    queued = {d.path: list(d.chunks.values_list("text", flat=True)) for d in Document.objects.all()}
    documents_import(paths=[docs_dir], collection="direct")
    direct = {
        d.path: list(d.chunks.values_list("text", flat=True)) for d in Document.objects.filter(collection="direct")
    }
    assert {p: t for p, t in queued.items() if p in direct} == direct


def test_import_documents_queue_reports_files_too_large_and_queues_the_rest(db, docs_dir, settings):
    settings.MAX_IMPORT_FILE_BYTES = 300
    with pytest.raises(CommandError, match="1 file\\(s\\) too large"):
        run_command("import_documents", str(docs_dir), "--queue")

    job = ImportJob.objects.get()
    assert sorted(job.files.values_list("path", flat=True)) == ["garden/roses.md", "kettle.txt"]
