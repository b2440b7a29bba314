"""The knowledge page (views.collection_list): the collections a user may read, with counts and roles."""

from django.urls import reverse

from documents.collections import collection_get_or_create
from documents.tests.conftest import make_document

URL = reverse("documents:list")


def test_it_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_it_lists_readable_collections_with_document_counts_and_the_users_role(as_user, garden, roses, alice):
    handbook, _ = collection_get_or_create(name="handbook", title="Staff handbook")  # organisation-wide
    make_document(handbook, "leave.txt", [("", "Ask a week ahead.")])
    make_document(handbook, "travel.txt", [("", "Book by train.")])

    page = as_user("ed").get(URL).content.decode()
    assert "Garden notes" in page and "1 document ·" in page and "Editor" in page
    assert "Staff handbook" in page and "2 documents · Reader" in page
    assert reverse("documents:collection", args=["garden"]) in page


def test_the_owner_is_shown_as_manager(as_user, garden):
    assert "0 documents · Manager" in as_user("bob").get(URL).content.decode()


def test_collections_the_user_may_not_read_are_left_out(as_user, garden, alice):
    page = as_user("alice").get(URL).content.decode()
    assert "Garden notes" not in page and reverse("documents:collection", args=["garden"]) not in page
