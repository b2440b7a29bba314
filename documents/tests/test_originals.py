"""Originals: every import keeps the file it read, under a name made of its bytes, and lets go of
it (after the commit, once no document uses it) when the document is replaced or deleted."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from conftest import run_command, stored_files, write_files
from documents.collections import collection_delete, collection_get_or_create, document_delete
from documents.models import Document
from documents.originals import original_name
from documents.services import documents_import

ROSES = b"# Roses\n\nPrune roses in late winter, just above an outward-facing bud."


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def garden_dir(tmp_path):
    write_files(tmp_path / "garden", {"roses.md": ROSES, "notes/kettle.txt": "Kettle\n\nDescale it monthly."})
    return tmp_path / "garden"


def test_an_import_keeps_each_original_under_its_content_address(db, garden_dir, media):
    assert not documents_import(paths=[garden_dir], collection="garden").failed
    roses = Document.objects.get(path="roses.md")
    assert roses.original.name == f"originals/{sha(ROSES)[:2]}/{sha(ROSES)}.md"
    assert roses.original_size == len(ROSES) and roses.uploaded_by is None
    with default_storage.open(roses.original.name) as stored:
        assert stored.read() == ROSES
    assert len(stored_files(media)) == 2


def test_the_import_command_keeps_originals(db, garden_dir, media):
    run_command("import_documents", str(garden_dir), "--collection", "garden")
    originals = sorted(Document.objects.values_list("original", flat=True))
    assert len(originals) == 2 and originals == stored_files(media)


def test_an_unchanged_reimport_stores_nothing_new(db, garden_dir, media):
    documents_import(paths=[garden_dir], collection="garden")
    before = {path.name: path.stat().st_mtime_ns for path in media.rglob("*") if path.is_file()}
    report = documents_import(paths=[garden_dir], collection="garden")
    assert sorted(report.unchanged) == ["notes/kettle.txt", "roses.md"]
    assert {path.name: path.stat().st_mtime_ns for path in media.rglob("*") if path.is_file()} == before


def test_the_same_bytes_in_two_collections_are_stored_once(db, garden_dir, media):
    documents_import(paths=[garden_dir], collection="garden")
    documents_import(paths=[garden_dir], collection="copy")
    assert Document.objects.count() == 4 and len(stored_files(media)) == 2


def test_a_replaced_original_is_deleted_after_the_commit(db, garden_dir, media, django_capture_on_commit_callbacks):
    documents_import(paths=[garden_dir], collection="garden")
    old = Document.objects.get(path="roses.md").original.name
    (garden_dir / "roses.md").write_bytes(ROSES + b" Remove dead wood first.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        documents_import(paths=[garden_dir], collection="garden")
        assert default_storage.exists(old)  # not before the commit
    for callback in callbacks:
        callback()
    new = Document.objects.get(path="roses.md").original.name
    assert not default_storage.exists(old) and default_storage.exists(new) and new != old


def test_deleting_a_document_deletes_its_original_after_the_commit(db, garden_dir, django_capture_on_commit_callbacks):
    documents_import(paths=[garden_dir], collection="garden")
    roses = Document.objects.get(path="roses.md")
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=roses)
    assert not default_storage.exists(roses.original.name)
    assert default_storage.exists(Document.objects.get(path="notes/kettle.txt").original.name)


def test_a_rolled_back_delete_keeps_the_original(db, garden_dir, django_capture_on_commit_callbacks):
    documents_import(paths=[garden_dir], collection="garden")
    roses = Document.objects.get(path="roses.md")
    pk, name = roses.pk, roses.original.name
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        document_delete(document=roses)
        raise RuntimeError("changed my mind")
    assert Document.objects.filter(pk=pk).exists() and default_storage.exists(name)


def test_an_original_shared_by_another_document_stays_until_both_are_deleted(
    db, garden_dir, django_capture_on_commit_callbacks
):
    documents_import(paths=[garden_dir], collection="garden")
    documents_import(paths=[garden_dir], collection="copy")
    name = original_name(content_hash=sha(ROSES), path="roses.md")
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=Document.objects.get(collection="garden", path="roses.md"))
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=Document.objects.get(collection="copy", path="roses.md"))
    assert not default_storage.exists(name)


def test_deleting_a_collection_deletes_the_originals_of_its_documents(
    db, garden_dir, media, django_capture_on_commit_callbacks
):
    documents_import(paths=[garden_dir], collection="garden")
    collection, _ = collection_get_or_create(name="garden")
    with django_capture_on_commit_callbacks(execute=True):
        collection_delete(collection=collection)
    assert stored_files(media) == []


def test_a_name_keeps_only_a_plain_suffix():
    assert original_name(content_hash="ab" + "0" * 62, path="Report.PDF").endswith("/ab" + "0" * 62 + ".pdf")
    assert original_name(content_hash="ab" + "0" * 62, path="notes.md;rm -rf").endswith("/ab" + "0" * 62)


def test_deleting_documents_in_the_admin_deletes_their_originals(
    db, garden_dir, staff_client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    documents_import(paths=[garden_dir], collection="garden")
    names = list(Document.objects.values_list("original", flat=True))
    form = {"action": "delete_selected", "_selected_action": list(Document.objects.values_list("pk", flat=True)),
            "post": "yes"}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:documents_document_changelist"), form)
    assert response.status_code == 302 and not Document.objects.exists()
    assert not any(default_storage.exists(name) for name in names)
