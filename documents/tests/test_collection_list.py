"""The knowledge page (views.collection_list): the collections a user may read, with counts and roles."""

from django.urls import reverse

from documents.collections import collection_get_or_create, personal_collection
from documents.models import Collection
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


def test_my_documents_comes_first_with_its_count(as_user, garden, alice):
    handbook, _ = collection_get_or_create(name="handbook", title="A handbook")  # sorts before "My documents"
    mine = personal_collection(alice)
    make_document(mine, "notes.md", [("", "My own notes.")])
    page = as_user("alice").get(URL).content.decode()
    assert page.index("My documents") < page.index("A handbook")
    assert reverse("documents:collection", args=[mine.name]) in page
    assert "1 document · Only you" in page and "appears with your first upload" not in page


def test_before_it_exists_my_documents_is_announced_and_not_made(as_user, garden, alice):
    page = as_user("alice").get(URL).content.decode()
    assert "My documents" in page and "appears with your first upload" in page
    assert "No other collection is shared with you yet." in page
    assert not Collection.objects.filter(personal=True).exists()  # a GET writes nothing


def test_another_users_my_documents_is_not_listed(as_user, garden, alice):
    theirs = personal_collection(garden.owner)
    make_document(theirs, "secret.md", [("", "Bob's own notes.")])
    page = as_user("alice").get(URL).content.decode()
    assert reverse("documents:collection", args=[theirs.name]) not in page and "1 document" not in page


def test_the_other_collections_are_in_title_order(as_user, alice):
    for name, title in [("z", "Apple notes"), ("a", "Zebra facts"), ("m", "Mango recipes")]:
        collection_get_or_create(name=name, title=title)
    page = as_user("alice").get(URL).content.decode()
    assert page.index("Apple notes") < page.index("Mango recipes") < page.index("Zebra facts")
