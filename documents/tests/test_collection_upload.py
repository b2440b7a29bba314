"""The upload form of the knowledge pages: who may upload where, what is queued, what is refused."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conftest import make_user, stored_files
from documents.models import Collection, ImportFile, ImportJob, ImportJobKind


def upload_url(collection: str = "garden") -> str:
    return reverse("documents:upload", args=[collection])


def text(name: str, data: bytes = b"Some text.") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def folder_zip() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handbook/garden/roses.md", "# Roses\n\nPrune in late winter.")
        archive.writestr("handbook/kettle.txt", "Kettle\n\nDescale monthly.")
    return SimpleUploadedFile("handbook.zip", buffer.getvalue())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_an_editor_queues_files_and_a_folder_zip_and_sees_what_was_queued(garden, as_user, media):
    files = [text("notes.md", b"# Notes"), folder_zip()]
    response = as_user("ed").post(upload_url(), {"files": files}, follow=True)
    assert response.redirect_chain == [(reverse("documents:collection", args=["garden"]), 302)]
    job = ImportJob.objects.get()
    assert (job.kind, job.collection, job.started_by.username) == (ImportJobKind.UPLOAD, "garden", "ed")
    assert sorted(job.files.values_list("path", flat=True)) == [
        "handbook/garden/roses.md", "handbook/kettle.txt", "notes.md",
    ]  # fmt: skip
    assert len(stored_files(media)) == 3 and all(name.startswith(f"uploads/{job.pk}/") for name in stored_files(media))
    assert messages_of(response) == [
        "Queued 3 file(s) for import into “Garden notes”: notes.md, handbook/garden/roses.md, handbook/kettle.txt."
    ]


def test_a_refused_file_is_named_with_its_reason_and_the_others_are_queued(garden, as_user):
    response = as_user("ed").post(upload_url(), {"files": [text("photo.jpg"), text("notes.md")]}, follow=True)
    assert list(ImportFile.objects.values_list("path", flat=True)) == ["notes.md"]
    [queued, refused] = messages_of(response)
    assert queued.startswith("Queued 1 file(s)")
    assert refused.startswith("Not imported: photo.jpg: unsupported file type (supported: .txt")


@pytest.mark.parametrize("url_name", ["documents:upload", "documents:personal_upload"])
def test_an_upload_over_the_total_is_refused_before_its_files_are_kept_anywhere(
    garden, as_user, media, settings, url_name
):
    settings.MAX_UPLOAD_TOTAL_BYTES = 15
    url = reverse(url_name, args=["garden"] if url_name == "documents:upload" else [])
    response = as_user("ed").post(url, {"files": [text("a.txt"), text("b.txt")]}, follow=True)
    # "more than": the size guard skipped the second file while the request was read (its size is
    # unknown); the form alone would have said "20 bytes".
    assert messages_of(response) == [
        "Nothing was uploaded. This upload is more than 15\xa0bytes; at most 15\xa0bytes may be sent at once. "
        "Send the files in several uploads."
    ]
    assert not ImportJob.objects.exists() and stored_files(media) == []
    assert not Collection.objects.filter(personal=True).exists()


def test_an_upload_over_the_quota_stores_nothing_and_says_what_is_left(garden, as_user, media, settings):
    settings.USER_STORAGE_QUOTA_BYTES = 15
    response = as_user("ed").post(upload_url(), {"files": [text("a.txt"), text("b.txt")]}, follow=True)
    [message] = messages_of(response)
    assert "your quota has 15\xa0bytes left (0\xa0bytes of 15\xa0bytes used)" in message
    assert not ImportJob.objects.exists() and stored_files(media) == []


def test_an_upload_of_nothing_acceptable_stores_nothing(garden, as_user, media):
    response = as_user("ed").post(upload_url(), {"files": [text("photo.jpg")]}, follow=True)
    [message] = messages_of(response)
    assert message.startswith("Nothing was uploaded. None of these files can be imported (photo.jpg: unsupported")
    assert not ImportJob.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize("username", ["rita", "alice"])
def test_a_reader_or_a_stranger_gets_404_and_nothing_is_stored(garden, alice, as_user, media, username):
    response = as_user(username).post(upload_url(), {"files": [text("notes.md")]})
    assert response.status_code == 404
    assert not ImportJob.objects.exists() and stored_files(media) == []


def test_nobody_uploads_into_another_users_personal_collection(garden, as_user, media):
    from documents.collections import personal_collection

    bobs = personal_collection(garden.owner)
    response = as_user("mona").post(upload_url(bobs.name), {"files": [text("notes.md")]})
    assert response.status_code == 404 and not ImportJob.objects.exists()


@pytest.mark.parametrize("url_name", ["documents:upload", "documents:personal_upload"])
def test_the_upload_needs_a_csrf_token(garden, media, url_name):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(garden.memberships.get(user__username="ed").user)
    url = reverse(url_name, args=["garden"] if url_name == "documents:upload" else [])
    assert csrf_client.post(url, {"files": [text("notes.md")]}).status_code == 403
    page = csrf_client.get(reverse("documents:collection", args=["garden"]))
    token = page.cookies["csrftoken"].value
    response = csrf_client.post(url, {"files": [text("notes.md")], "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and ImportJob.objects.count() == 1  # the same request with its token


def test_the_upload_is_post_only(garden, as_user):
    assert as_user("ed").get(upload_url()).status_code == 405


def test_the_script_gets_the_page_to_go_to_and_the_messages_wait_there(garden, as_user):
    client = as_user("ed")
    response = client.post(upload_url(), {"files": [text("notes.md")]}, HTTP_ACCEPT="application/json")
    assert response.json() == {"location": reverse("documents:collection", args=["garden"])}
    page = client.get(response.json()["location"])
    assert messages_of(page)[0].startswith("Queued 1 file(s)")


def test_the_collection_page_offers_the_form_to_editors_only(garden, as_user):
    form_action = f'action="{upload_url()}"'
    assert form_action in as_user("ed").get(reverse("documents:collection", args=["garden"])).content.decode()
    assert form_action not in as_user("rita").get(reverse("documents:collection", args=["garden"])).content.decode()


def test_a_first_upload_makes_my_documents(db, client, media):
    ann = make_user("ann")
    client.force_login(ann)
    page = client.get(reverse("documents:list")).content.decode()
    assert f'action="{reverse("documents:personal_upload")}"' in page
    response = client.post(reverse("documents:personal_upload"), {"files": [text("diary.md")]})
    mine = Collection.objects.personal_of(ann).get()
    assert response.url == reverse("documents:collection", args=[mine.name])
    assert ImportJob.objects.get().collection == mine.name


def test_a_refused_first_upload_does_not_make_my_documents(db, client, media):
    ann = make_user("ann")
    client.force_login(ann)
    response = client.post(reverse("documents:personal_upload"), {"files": [text("photo.jpg")]})
    assert response.url == reverse("documents:list")
    assert not Collection.objects.personal_of(ann).exists() and stored_files(media) == []


def test_the_worker_imports_an_upload_and_keeps_each_original_for_its_sender(
    garden, as_user, media, django_capture_on_commit_callbacks
):
    from documents.models import Document
    from documents.tests.conftest import run_jobs
    from documents.uploads import storage_used

    as_user("ed").post(upload_url(), {"files": [text("notes.md", b"# Notes\n\nWater at dawn."), folder_zip()]})
    with django_capture_on_commit_callbacks(execute=True):
        run_jobs()

    documents = Document.objects.filter(collection=garden).order_by("path")
    assert [d.path for d in documents] == ["handbook/garden/roses.md", "handbook/kettle.txt", "notes.md"]
    assert {d.uploaded_by.username for d in documents} == {"ed"}
    # The waiting uploads are gone; what stays is the originals, and they count against Ed's quota.
    assert stored_files(media) == sorted(d.original.name for d in documents)
    assert storage_used(documents[0].uploaded_by) == sum(d.original_size for d in documents) > 0
    notes = documents.get(path="notes.md")
    original = as_user("rita").get(reverse("documents:document_original", args=["garden", notes.pk]))
    assert b"".join(original.streaming_content) == b"# Notes\n\nWater at dawn."


def test_staff_see_who_uploaded_a_document_and_its_originals_size(garden, staff_client):
    from documents.models import Document

    document = Document.objects.create(collection=garden, path="notes.md", title="Notes", content_hash="0" * 64,
                                       original_size=2048, uploaded_by=garden.owner)  # fmt: skip
    page = staff_client.get(reverse("admin:documents_document_change", args=[document.pk])).content.decode()
    assert "Original size" in page and "2048" in page and ">bob<" in page
