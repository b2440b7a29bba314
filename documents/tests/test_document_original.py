"""Download original: the file a document was imported from, for those who may read it."""

import hashlib

import pytest
from django.urls import reverse

from documents.originals import original_save
from documents.tests.conftest import make_document


def with_original(document, data: bytes):
    content_hash = hashlib.sha256(data).hexdigest()
    document.original = original_save(data=data, content_hash=content_hash, path=document.path)
    document.original_size, document.content_hash = len(data), content_hash
    document.save()
    return document


def original_url(document) -> str:
    return reverse("documents:document_original", args=[document.collection_id, document.pk])


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_reader_downloads_the_original_as_an_attachment(garden, roses, as_user):
    with_original(roses, b"# Roses\n\nPrune in late winter.")
    response = as_user("rita").get(original_url(roses))
    assert response.status_code == 200 and body(response) == b"# Roses\n\nPrune in late winter."
    assert response["Content-Disposition"] == 'attachment; filename="roses.md"'
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_pdf_opens_in_the_browser(garden, as_user):
    report = with_original(make_document(garden, "reports/harbour.pdf", [("Harbour", "Ships.")]), b"%PDF-1.4 ...")
    response = as_user("rita").get(original_url(report))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="harbour.pdf"'


@pytest.mark.parametrize("path", ["page.html", "drawing.svg", "notes.HTM"])
def test_html_and_svg_are_never_shown_inline(garden, as_user, path):
    document = with_original(make_document(garden, path, [("Page", "Text.")]), b"<script>alert(1)</script>")
    response = as_user("rita").get(original_url(document))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_an_odd_file_name_is_made_safe_for_the_header(garden, as_user):
    document = with_original(make_document(garden, 'notes/we"ird\r\nname.txt', [("N", "T.")]), b"text")
    response = as_user("rita").get(original_url(document))
    assert response["Content-Disposition"] == 'attachment; filename="we\\"irdname.txt"'


def test_a_stranger_gets_404(garden, roses, alice, as_user):
    with_original(roses, b"# Roses")
    assert as_user("alice").get(original_url(roses)).status_code == 404


def test_a_document_of_another_collection_is_not_found_through_this_one(garden, roses, as_user):
    from documents.models import Collection

    other = Collection.objects.create(name="other", title="Other", owner=garden.owner)
    with_original(roses, b"# Roses")
    url = reverse("documents:document_original", args=[other.name, roses.pk])
    assert as_user("bob").get(url).status_code == 404


def test_a_document_imported_before_originals_were_kept_says_so(garden, roses, as_user):
    client = as_user("rita")
    assert client.get(original_url(roses)).status_code == 404
    page = client.get(reverse("documents:document", args=["garden", roses.pk])).content.decode()
    assert "no original file kept" in page and "Download original" not in page


def test_the_document_page_links_the_original(garden, roses, as_user):
    with_original(roses, b"# Roses")
    page = as_user("rita").get(reverse("documents:document", args=["garden", roses.pk])).content.decode()
    assert f'<a href="{original_url(roses)}">Download original</a>' in page


def test_an_original_missing_from_the_storage_is_404_not_500(garden, roses, as_user):
    from django.core.files.storage import default_storage

    with_original(roses, b"# Roses")
    default_storage.delete(roses.original.name)
    assert as_user("rita").get(original_url(roses)).status_code == 404
