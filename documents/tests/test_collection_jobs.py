"""The jobs panel of a collection page, its JSON for the page's script, and Cancel / Retry failed
files: for editors only (and a personal collection's owner); everyone else gets 404."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from conftest import KNOWLEDGE_BASE
from documents import jobs
from documents.collections import personal_collection
from documents.models import Document, ImportFile, ImportJob, ImportJobStatus
from documents.tests.conftest import run_jobs

KETTLE = KNOWLEDGE_BASE["kettle.txt"]


def upload_to(collection, files: dict[str, bytes]) -> ImportJob:
    pairs = [(name, ContentFile(data, name=name)) for name, data in files.items()]
    return jobs.upload_job_start(collection=collection, user=collection.owner, files=pairs)


@pytest.fixture
def job(garden) -> ImportJob:
    """A job of Bob's collection "garden": one good file, one that fails."""
    return upload_to(garden, {"kettle.txt": KETTLE.encode(), "latin1.txt": "caf\xe9".encode("latin-1")})


def jobs_url(collection) -> str:
    return reverse("documents:jobs", args=[collection.name])


def test_editors_see_a_queued_job_on_the_collection_page(as_user, garden, job):
    page = as_user("ed").get(reverse("documents:collection", args=[garden.name])).content.decode()

    assert f"Upload #{job.pk}" in page and "Queued" in page and "0 of 2 files" in page
    assert "time left unknown yet" in page and ">Cancel</button>" in page
    assert "js/jobs.js" in page and "data-active" in page


def test_a_finished_job_shows_its_counts_and_failures_without_javascript(as_user, garden, job):
    run_jobs()

    page = as_user("mona").get(reverse("documents:collection", args=[garden.name])).content.decode()
    passages = ImportFile.objects.get(path="kettle.txt").passages
    assert "Partly failed" in page and "2 of 2 files" in page and f"{passages} passages written" in page
    assert "<strong>latin1.txt</strong>: not valid UTF-8" in page
    assert ">Retry failed files</button>" in page and ">Cancel</button>" not in page
    assert "data-active" not in page  # nothing left to watch: the script stays idle


@pytest.mark.parametrize("username", ["rita", "alice"])
def test_readers_and_others_see_no_jobs_and_get_404_for_their_json(as_user, garden, job, alice, username):
    client = as_user(username)
    page = client.get(reverse("documents:collection", args=[garden.name]))
    assert f"Upload #{job.pk}" not in page.content.decode() and "js/jobs.js" not in page.content.decode()
    assert client.get(jobs_url(garden)).status_code == 404


def test_the_json_gives_each_jobs_progress_and_the_panel(as_user, garden, job):
    data = as_user("ed").get(jobs_url(garden)).json()

    assert data["active"] is True
    [shown] = data["jobs"]
    assert (shown["id"], shown["status"], shown["files_done"], shown["files_total"]) == (job.pk, "queued", 0, 2)
    assert shown["estimated_seconds_left"] is None and shown["failures"] == []
    assert data["html"].strip().startswith('<section id="jobs"') and "0 of 2 files" in data["html"]


def test_the_owner_of_a_personal_collection_watches_its_jobs_and_no_one_else(as_user, alice, bob):
    mine = personal_collection(alice)
    upload_to(mine, {"kettle.txt": KETTLE.encode()})

    assert as_user("alice").get(jobs_url(mine)).json()["jobs"][0]["files_total"] == 1
    assert as_user("bob").get(jobs_url(mine)).status_code == 404


def test_an_editor_cancels_a_job(as_user, garden, job, django_capture_on_commit_callbacks):
    uploads = list(job.files.values_list("upload", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user("ed").post(reverse("documents:job_cancel", args=[garden.name, job.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("documents:collection", args=[garden.name])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.CANCELLED
    run_jobs()
    assert not Document.objects.exists() and not any(default_storage.exists(name) for name in uploads)


def test_an_editor_retries_failed_files(as_user, garden, job):
    run_jobs()
    client = as_user("ed")

    client.post(reverse("documents:job_retry", args=[garden.name, job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED
    assert job.files.get(path="latin1.txt").status == "pending"
    run_jobs()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PARTLY_FAILED  # the same bytes fail the same way

    job.files.filter(path="latin1.txt").update(upload="")  # their bytes are gone: nothing to retry
    response = client.post(reverse("documents:job_retry", args=[garden.name, job.pk]), follow=True)
    assert "has no failed file to retry" in response.content.decode()


@pytest.mark.parametrize("action", ["documents:job_cancel", "documents:job_retry"])
def test_readers_cannot_cancel_or_retry_and_get_requests_are_refused(as_user, garden, job, action):
    url = reverse(action, args=[garden.name, job.pk])
    assert as_user("rita").post(url).status_code == 404
    assert as_user("ed").get(url).status_code == 405
    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED


def test_a_job_of_another_collection_is_404_under_this_one(as_user, garden, job, alice):
    mine = personal_collection(alice)
    assert as_user("alice").post(reverse("documents:job_cancel", args=[mine.name, job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportJobStatus.QUEUED
