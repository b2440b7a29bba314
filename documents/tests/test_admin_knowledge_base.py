"""The knowledge base in the admin: upload, import jobs, deletion and re-embedding, on the real database."""

import numpy as np
import pytest
from django.contrib.admin.models import ADDITION, DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import KNOWLEDGE_BASE, make_user
from documents import jobs, reembedding, services
from documents.embeddings import MiniLMEmbeddings
from documents.models import (
    Chunk,
    Collection,
    Document,
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobKind,
    ImportJobStatus,
)
from documents.tests.conftest import run_jobs

UPLOAD_URL = reverse("admin:documents_document_upload")
ROSES = KNOWLEDGE_BASE["garden/roses.md"]
KETTLE = KNOWLEDGE_BASE["kettle.txt"]


def upload(client, files: dict[str, str | bytes], collection: str = "manuals"):
    uploads = [
        SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data) for name, data in files.items()
    ]
    return client.post(UPLOAD_URL, {"collection": collection, "files": uploads})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def log_messages(model, action_flag: int) -> dict[str, str]:
    entries = LogEntry.objects.filter(content_type__model=model._meta.model_name, action_flag=action_flag)
    return {entry.object_repr: entry.change_message for entry in entries}


# --- Upload ---------------------------------------------------------------------------------


def test_upload_answers_at_once_with_a_queued_job_and_reports_refused_files(staff_client, staff_user, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = upload(
        staff_client,
        {
            "kettle.txt": KETTLE,
            "roses.md": ROSES,
            "latin1.txt": "caf\xe9".encode("latin-1"),
            "setup.exe": b"MZ\x90\x00",
            "huge.md": "# Huge\n\n" + "word " * 300,
        },
    )

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:documents_importjob_change", args=[job.pk]
    )
    assert (job.kind, job.status, job.collection, job.started_by) == (
        ImportJobKind.UPLOAD, ImportJobStatus.QUEUED, "manuals", staff_user
    )  # fmt: skip
    files = job.files.order_by("path")
    assert [(f.path, f.status) for f in files] == [
        (name, "pending") for name in ["kettle.txt", "latin1.txt", "roses.md"]
    ]
    assert all(default_storage.exists(f.upload) for f in files)
    assert not Document.objects.exists()  # the worker imports them
    shown = messages_of(response)
    assert shown[0] == f"{job}: 3 file(s) queued for import."
    assert shown[1].startswith("Not uploaded: setup.exe: unsupported file type")
    assert shown[2].startswith("Not uploaded: huge.md: larger than the 1000\xa0bytes limit")
    assert log_messages(ImportJob, ADDITION) == {str(job): "Uploaded 3 file(s)."}


def test_the_worker_imports_the_uploaded_files_and_records_each_one(staff_client, django_capture_on_commit_callbacks):
    upload(staff_client, {"kettle.txt": KETTLE, "roses.md": ROSES, "latin1.txt": "caf\xe9".encode("latin-1")})
    job = ImportJob.objects.get()
    uploads = dict(job.files.values_list("path", "upload"))

    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.PARTLY_FAILED and job.started_at <= job.finished_at
    files = {f.path: f for f in job.files.all()}
    assert {path: f.status for path, f in files.items()} == {"kettle.txt": "added", "roses.md": "added",
                                                            "latin1.txt": "failed"}  # fmt: skip
    assert files["latin1.txt"].reason.startswith("not valid UTF-8")
    roses = Document.objects.get(collection="manuals", path="roses.md")
    assert files["roses.md"].document == roses and files["roses.md"].passages == roses.chunks.count() > 0
    assert Chunk.objects.filter(document=roses, heading="Garden › Roses").exists()
    # Imported files' bytes are deleted; a failed one keeps them for "Retry failed files".
    assert [default_storage.exists(uploads[p]) for p in ["kettle.txt", "roses.md", "latin1.txt"]] == [0, 0, 1]


def test_uploading_a_file_again_leaves_it_unchanged_and_a_new_version_replaces_it(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE})
    run_jobs()
    kettle = Document.objects.get()

    upload(staff_client, {"kettle.txt": KETTLE})
    run_jobs()
    again = ImportJob.objects.first()
    assert again.status == ImportJobStatus.SUCCEEDED
    assert again.files.get().status == ImportFileStatus.UNCHANGED and again.files.get().passages == 0

    upload(staff_client, {"kettle.txt": "Kettle care\n\nUse citric acid instead of vinegar."})
    run_jobs()
    newest = ImportJob.objects.first()
    assert newest.files.get().status == ImportFileStatus.REPLACED
    assert list(Document.objects.values_list("pk", flat=True)) == [kettle.pk]
    assert [c.text for c in kettle.chunks.all()] == ["Use citric acid instead of vinegar."]


def test_an_upload_where_every_file_fails_is_recorded_as_failed(staff_client):
    upload(staff_client, {"latin1.txt": "caf\xe9".encode("latin-1"), "empty.txt": b""})
    run_jobs()
    assert ImportJob.objects.get().status == ImportJobStatus.PARTLY_FAILED  # the empty file was read

    upload(staff_client, {"latin1.txt": "caf\xe9".encode("latin-1")})
    run_jobs()
    assert ImportJob.objects.first().status == ImportJobStatus.FAILED
    assert not Document.objects.exists()


def test_files_of_a_collection_deleted_before_the_worker_came_fail_with_the_reason(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE, "roses.md": ROSES})
    Collection.objects.filter(name="manuals").delete()

    run_jobs()

    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED and not Document.objects.exists()
    reasons = set(job.files.values_list("reason", flat=True))
    assert reasons == {"the collection 'manuals' was deleted before this file was imported"}


def test_small_files_imported_together_each_keep_their_own_outcome(staff_client, settings):
    settings.JOB_BATCH_BYTES = 10_000
    upload(staff_client, {"kettle.txt": KETTLE, "roses.md": ROSES, "latin1.txt": "caf\xe9".encode("latin-1")})

    run_jobs()

    files = {f.path: f for f in ImportFile.objects.all()}
    assert {p: f.status for p, f in files.items()} == {"kettle.txt": "added", "roses.md": "added",
                                                      "latin1.txt": "failed"}  # fmt: skip
    for path in ["kettle.txt", "roses.md"]:
        document = Document.objects.get(collection="manuals", path=path)
        assert files[path].document == document and files[path].passages == document.chunks.count() > 0
    assert files["latin1.txt"].document is None and files["latin1.txt"].passages == 0


def test_an_upload_of_only_refused_files_makes_no_job(staff_client):
    response = upload(staff_client, {"notes.exe": b"x"})
    assert response.status_code == 200 and not ImportJob.objects.exists()
    assert any(m.startswith("Not uploaded: notes.exe: unsupported") for m in messages_of(response))


def test_a_stored_upload_that_cannot_be_read_fails_alone(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE, "roses.md": ROSES})
    lost = ImportFile.objects.get(path="kettle.txt")
    default_storage.delete(lost.upload)

    run_jobs()

    lost.refresh_from_db()
    assert lost.status == ImportFileStatus.FAILED and lost.reason.startswith("cannot read the stored upload")
    assert list(Document.objects.values_list("path", flat=True)) == ["roses.md"]
    assert ImportJob.objects.get().status == ImportJobStatus.PARTLY_FAILED


@pytest.mark.parametrize("collection", ["", "../etc", "two words", "x" * 101])
def test_a_bad_collection_name_is_refused(staff_client, collection):
    response = upload(staff_client, {"kettle.txt": KETTLE}, collection=collection)
    assert response.status_code == 200 and response.context["form"].errors["collection"]
    assert not ImportJob.objects.exists() and not Document.objects.exists()


def test_an_upload_without_files_is_refused(staff_client):
    response = staff_client.post(UPLOAD_URL, {"collection": "default"})
    assert response.context["form"].errors["files"] == ["This field is required."]
    assert not ImportJob.objects.exists()


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, alice):
    assert reverse("admin:login") in client.get(UPLOAD_URL)["Location"]
    client.force_login(alice)
    assert reverse("admin:login") in upload(client, {"kettle.txt": KETTLE})["Location"]
    assert not ImportJob.objects.exists()


def test_staff_need_the_add_document_permission(client, db):
    clerk = make_user("clerk", is_staff=True)
    client.force_login(clerk)
    assert upload(client, {"kettle.txt": KETTLE}).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="add_document"))
    response = upload(client, {"kettle.txt": KETTLE})

    # Without permission to view import jobs, the result is shown on the document list.
    assert response["Location"] == reverse("admin:documents_document_changelist") + "?collection__exact=manuals"
    run_jobs()
    assert Document.objects.get().path == "kettle.txt"


def test_the_document_list_links_to_the_upload_and_shows_chunk_counts(staff_client, knowledge_base):
    html = staff_client.get(reverse("admin:documents_document_changelist")).content.decode()
    assert UPLOAD_URL in html and "Upload files" in html
    roses = Document.objects.get(path="garden/roses.md")
    assert f'class="field-chunk_count">{roses.chunks.count()}<' in html
    assert 'class="field-created_at' in html  # the import date
    assert staff_client.get(reverse("admin:documents_document_add"))["Location"] == UPLOAD_URL
    page = staff_client.get(UPLOAD_URL)
    assert page.status_code == 200 and 'type="file" name="files"' in page.content.decode()


# --- Delete -----------------------------------------------------------------------------------


# What deleting does to the answers that cited a document: conversations/tests/test_document_deletion.py.
def test_deleting_a_document_removes_its_chunks(staff_client, knowledge_base):
    roses = Document.objects.get(path="garden/roses.md")

    delete_url = reverse("admin:documents_document_delete", args=[roses.pk])
    assert staff_client.get(delete_url).status_code == 200  # the confirmation page
    response = staff_client.post(delete_url, {"post": "yes"})

    assert response.status_code == 302
    assert not Document.objects.filter(pk=roses.pk).exists()
    assert not Chunk.objects.filter(document_id=roses.pk).exists()
    assert "default:garden/roses.md" in log_messages(Document, DELETION)


def test_deleting_selected_documents_removes_their_chunks(staff_client, knowledge_base):
    selected = list(Document.objects.exclude(path="kettle.txt").values_list("pk", flat=True))
    response = staff_client.post(
        reverse("admin:documents_document_changelist"),
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    assert response.status_code == 302
    assert list(Document.objects.values_list("path", flat=True)) == ["kettle.txt"]
    assert set(Chunk.objects.values_list("document__path", flat=True)) == {"kettle.txt"}
    assert len(log_messages(Document, DELETION)) == 2


# --- Re-embed ---------------------------------------------------------------------------------


def reembed(client, documents):
    return client.post(
        reverse("admin:documents_document_changelist"),
        {"action": "reembed_collections", "_selected_action": [d.pk for d in documents]},
    )


def vectors() -> dict[int, np.ndarray]:
    return {pk: np.array(vector) for pk, vector in Chunk.objects.values_list("pk", "embedding")}


def test_reembedding_current_vectors_changes_nothing(staff_client, knowledge_base):
    before = vectors()

    response = reembed(staff_client, Document.objects.filter(path="kettle.txt"))
    queued = ImportJob.objects.get()
    assert (queued.kind, queued.status) == (ImportJobKind.REEMBED, ImportJobStatus.QUEUED)
    assert messages_of(response) == [f"{queued}: queued."]
    assert log_messages(ImportJob, ADDITION) == {str(queued): "Re-embedding of collection default."}
    run_jobs()

    job = ImportJob.objects.get()
    assert (job.kind, job.status, job.collection) == (ImportJobKind.REEMBED, ImportJobStatus.SUCCEEDED, "default")
    assert (job.chunks_written, job.replaced, job.unchanged, job.failed) == (0, 0, 3, 0)
    assert all(np.array_equal(before[pk], vector) for pk, vector in vectors().items())


def test_reembedding_rewrites_stale_vectors_of_the_whole_collection_only(staff_client, docs_dir, monkeypatch):
    services.documents_import(paths=[docs_dir], collection="default")
    services.documents_import(paths=[docs_dir / "kettle.txt"], collection="other")
    stale = Chunk.objects.filter(document__collection="default", document__path="garden/roses.md").first()
    other = Chunk.objects.get(document__collection="other")
    Chunk.objects.filter(pk__in=[stale.pk, other.pk]).update(embedding=[0.0] * 384)
    monkeypatch.setattr(reembedding, "REEMBED_BATCH_CHUNKS", 2)  # several batches even for this small collection

    reembed(staff_client, Document.objects.filter(collection="default", path="kettle.txt"))
    run_jobs()

    expected = MiniLMEmbeddings().embed_query(f"{stale.heading}\n{stale.text}")
    assert np.allclose(Chunk.objects.get(pk=stale.pk).embedding, expected, rtol=0, atol=1e-5)
    assert not np.any(Chunk.objects.get(pk=other.pk).embedding)  # another collection: untouched
    job = ImportJob.objects.get()
    assert (job.status, job.chunks_written, job.replaced, job.unchanged) == (ImportJobStatus.SUCCEEDED, 1, 1, 2)


def test_a_reembedding_that_fails_is_recorded(staff_client, knowledge_base, monkeypatch):
    def broken(self, texts):
        raise MemoryError("out of memory")

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", broken)
    reembed(staff_client, Document.objects.all()[:1])
    run_jobs()

    job = ImportJob.objects.get()
    assert (job.status, job.failed, job.chunks_written) == (ImportJobStatus.FAILED, 3, 0)
    assert job.errors == [["default", "re-embedding stopped (MemoryError: out of memory)"]]
    assert jobs.job_progress(job).failures == [("default", "re-embedding stopped (MemoryError: out of memory)")]


def test_reembedding_needs_the_change_document_permission(client, knowledge_base):
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_document"))
    client.force_login(viewer)

    reembed(client, Document.objects.all())

    assert not ImportJob.objects.exists()
