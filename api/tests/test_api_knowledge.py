import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.tests.conftest import is_problem
from documents.models import Collection, ImportFile, ImportJob, Role
from documents.tests.conftest import make_document, run_jobs


def test_collections_you_can_read_with_your_role(as_alice, alice, bob):
    Collection.objects.create(name="bobs", title="Bob's", owner=bob)
    shared = Collection.objects.create(name="shared", title="Shared", owner=bob)
    from documents.collections import collection_share

    collection_share(collection=shared, user=alice, role=Role.EDITOR)
    make_document(shared, "notes.md", [("Notes", "Some text.")])

    body = as_alice.get("/collections").json()
    assert [(c["name"], c["role"], c["document_count"]) for c in body] == [("shared", "editor", 1)]
    assert as_alice.get("/collections/shared").json()["title"] == "Shared"
    is_problem(as_alice.get("/collections/bobs"), 404)


def test_a_collections_documents_paginated(as_alice, alice):
    mine = Collection.objects.create(name="mine", title="Mine", owner=alice)
    for name in ["a.md", "b.md", "c.md"]:
        make_document(mine, name, [("H", "Text.")])
    first = as_alice.get("/collections/mine/documents", {"page_size": 2}).json()
    assert [d["path"] for d in first["items"]] == ["a.md", "b.md"] and first["pages"] == 2
    assert first["items"][0]["passage_count"] == 1
    assert as_alice.get("/collections/mine/documents", {"q": "c.md"}).json()["count"] == 1


@pytest.mark.parametrize("name", ["no such", "a\x00b", "x" * 200, "ünï"])
def test_names_no_collection_has_are_404(as_alice, name):
    from urllib.parse import quote

    is_problem(as_alice.get("/collections/" + quote(name)), 404)


def test_upload_into_my_documents_returns_the_job_and_its_progress(as_alice, alice):
    files = [SimpleUploadedFile("notes.md", b"# Notes\n\nPrune roses in late winter."),
             SimpleUploadedFile("tool.exe", b"MZ")]  # fmt: skip
    response = as_alice.upload("/my-documents/uploads", files)

    assert response.status_code == 202
    body = response.json()
    assert body["refused"][0]["name"] == "tool.exe" and "unsupported file type" in body["refused"][0]["reason"]
    job = body["job"]
    assert job["status"] == "queued" and job["files_total"] == 1
    run_jobs()
    done = as_alice.get(f"/collections/{job['collection']}/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["files_done"] == 1 and done["passages_written"] >= 1


def test_upload_needs_an_editor(as_alice, alice, bob):
    from documents.collections import collection_share

    garden = Collection.objects.create(name="garden", title="Garden", owner=bob)
    collection_share(collection=garden, user=alice, role=Role.READER)
    is_problem(as_alice.upload("/collections/garden/uploads", [SimpleUploadedFile("a.md", b"# A")]), 404)
    collection_share(collection=garden, user=alice, role=Role.EDITOR)
    assert as_alice.upload("/collections/garden/uploads", [SimpleUploadedFile("a.md", b"# A")]).status_code == 202


def test_an_upload_over_the_limit_is_413_and_stores_nothing(as_alice, settings):
    settings.MAX_UPLOAD_TOTAL_BYTES = 1000
    body = is_problem(as_alice.upload("/my-documents/uploads", [SimpleUploadedFile("big.md", b"x" * 5000)]), 413)
    assert "at most" in body["detail"] and "several uploads" in body["detail"]
    assert not ImportJob.objects.exists() and not Collection.objects.exists()


def test_over_the_quota_is_413(as_alice, settings):
    settings.USER_STORAGE_QUOTA_BYTES = 10
    is_problem(as_alice.upload("/my-documents/uploads", [SimpleUploadedFile("a.md", b"x" * 100)]), 413)
    assert not ImportFile.objects.exists()


def test_nothing_importable_or_no_files_is_422(as_alice):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("tool.exe", b"MZ")
    refused = as_alice.upload("/my-documents/uploads", [SimpleUploadedFile("tools.zip", archive.getvalue())])
    assert "None of these files can be imported (tool.exe: unsupported" in is_problem(refused, 422)["detail"]
    assert "fields named files" in is_problem(as_alice.upload("/my-documents/uploads", []), 422)["detail"]
    assert not ImportJob.objects.exists()
