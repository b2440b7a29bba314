"""Import jobs in the admin: their pages show progress, files and failures; staff who may change
import jobs cancel them and retry their failed files (the list's actions and the job page's buttons)."""

from django.contrib.admin.models import CHANGE
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from conftest import make_user
from documents.models import Chunk, Document, ImportFileStatus, ImportJob, ImportJobKind, ImportJobStatus
from documents.tests.conftest import run_jobs
from documents.tests.test_admin_knowledge_base import KETTLE, ROSES, log_messages, upload


def test_import_job_pages_show_progress_and_failures_and_are_read_only(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE, "latin1.txt": "caf\xe9".encode("latin-1")})
    job = ImportJob.objects.get()
    queued = staff_client.get(reverse("admin:documents_importjob_change", args=[job.pk])).content.decode()
    assert "0 of 2 files, 0 passages written" in queued

    run_jobs()

    listing = staff_client.get(reverse("admin:documents_importjob_changelist")).content.decode()
    detail = staff_client.get(reverse("admin:documents_importjob_change", args=[job.pk])).content.decode()
    passages = Chunk.objects.count()
    assert str(ImportJob.objects.get()) in listing and "Partly failed" in listing and "2 of 2" in listing
    assert f"2 of 2 files, {passages} passages written" in detail
    assert "<strong>latin1.txt</strong>: not valid UTF-8" in detail
    assert 'name="_save"' not in detail
    assert staff_client.get(reverse("admin:documents_importjob_add")).status_code == 403
    assert staff_client.post(reverse("admin:documents_importjob_delete", args=[job.pk])).status_code == 403


def job_action(client, action: str, job: ImportJob):
    return client.post(
        reverse("admin:documents_importjob_changelist"), {"action": action, "_selected_action": [job.pk]}
    )


def test_staff_cancel_a_queued_job_and_nothing_is_imported(staff_client, django_capture_on_commit_callbacks):
    upload(staff_client, {"kettle.txt": KETTLE, "roses.md": ROSES})
    job = ImportJob.objects.get()
    uploads = list(job.files.values_list("upload", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        job_action(staff_client, "cancel_jobs", job)
    run_jobs()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED and job.finished_at is not None
    assert set(job.files.values_list("status", flat=True)) == {ImportFileStatus.CANCELLED}
    assert not Document.objects.exists() and not any(default_storage.exists(name) for name in uploads)
    assert log_messages(ImportJob, CHANGE) == {str(job): "Cancelled."}


def test_staff_retry_failed_files_once_they_are_fixed(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE, "notes.txt": "caf\xe9".encode("latin-1")})
    run_jobs()
    job = ImportJob.objects.get()
    broken = job.files.get(path="notes.txt")
    # The cause is fixed where the bytes wait (say, a storage that was briefly unreadable).
    default_storage.delete(broken.upload)
    default_storage.save(broken.upload, ContentFile(b"Notes\n\nCafe opens at nine."))

    job_action(staff_client, "retry_failed_files", job)
    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED and job.finished_at is None
    run_jobs()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.SUCCEEDED
    assert dict(job.files.values_list("path", "status")) == {"kettle.txt": "added", "notes.txt": "added"}
    assert Document.objects.get(path="notes.txt").chunks.get().text == "Cafe opens at nine."


def test_the_job_page_offers_cancel_while_it_runs_and_retry_once_files_failed(staff_client):
    upload(staff_client, {"kettle.txt": KETTLE, "latin1.txt": "caf\xe9".encode("latin-1")})
    job = ImportJob.objects.get()
    page_url = reverse("admin:documents_importjob_change", args=[job.pk])
    assert 'value="Cancel this job"' in staff_client.get(page_url).content.decode()
    run_jobs()
    page = staff_client.get(page_url).content.decode()
    assert 'value="Cancel this job"' not in page and 'value="Retry failed files"' in page

    response = staff_client.post(reverse("admin:documents_importjob_retry", args=[job.pk]))

    assert response["Location"] == page_url
    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED
    staff_client.post(reverse("admin:documents_importjob_cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED


def test_cancel_and_retry_need_the_change_import_job_permission(client, db):
    viewer = make_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_importjob"))
    job = ImportJob.objects.create(kind=ImportJobKind.UPLOAD, collection="manuals")
    client.force_login(viewer)

    job_action(client, "cancel_jobs", job)
    page = client.get(reverse("admin:documents_importjob_change", args=[job.pk])).content.decode()
    refused = client.post(reverse("admin:documents_importjob_cancel", args=[job.pk]))

    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED
    assert refused.status_code == 403 and 'value="Cancel this job"' not in page
