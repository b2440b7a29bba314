"""A collection's page (views.collection_detail): its documents, searchable by title, paginated."""

import pytest
from django.urls import reverse

from documents.tests.conftest import make_document
from documents.views import DOCUMENTS_PER_PAGE

URL = reverse("documents:collection", args=["garden"])


def test_it_lists_the_documents_with_path_size_passages_and_import_date(as_user, roses):
    page = as_user("rita").get(URL).content.decode()
    assert "Roses" in page and "roses.md" in page and "2.0\xa0KB" in page
    assert "<td>2</td>" in page  # passages
    assert reverse("documents:document", args=["garden", roses.pk]) in page


def test_readers_see_no_edit_or_manage_links(as_user, roses):
    page = as_user("rita").get(URL).content.decode()
    assert reverse("documents:document_delete", args=["garden", roses.pk]) not in page
    assert reverse("documents:manage", args=["garden"]) not in page


def test_editors_may_delete_documents_and_managers_may_manage(as_user, roses):
    assert reverse("documents:document_delete", args=["garden", roses.pk]) in as_user("ed").get(URL).content.decode()
    assert reverse("documents:manage", args=["garden"]) not in as_user("ed").get(URL).content.decode()
    assert reverse("documents:manage", args=["garden"]) in as_user("mona").get(URL).content.decode()


def test_documents_are_searched_by_title(as_user, garden, roses):
    make_document(garden, "tomatoes.md", [("", "Water at the base.")], title="Tomatoes")
    page = as_user("rita").get(URL, {"q": "tomato"}).content.decode()
    assert "tomatoes.md" in page and "roses.md" not in page
    assert "No document title matches" in as_user("rita").get(URL, {"q": "cactus"}).content.decode()


def test_documents_come_a_page_at_a_time(as_user, garden):
    for i in range(DOCUMENTS_PER_PAGE + 1):
        make_document(garden, f"note-{i:02}.txt", [("", "text")])
    first = as_user("rita").get(URL).content.decode()
    second = as_user("rita").get(URL, {"page": 2}).content.decode()
    assert "note-00.txt" in first and f"note-{DOCUMENTS_PER_PAGE:02}.txt" not in first
    assert f"note-{DOCUMENTS_PER_PAGE:02}.txt" in second and "Page 2 of 2" in second


@pytest.mark.parametrize("name", ["garden", "no-such-collection"])
def test_non_members_get_404_whether_or_not_it_exists(as_user, garden, alice, name):
    assert as_user("alice").get(reverse("documents:collection", args=[name])).status_code == 404
