"""Deleting a collection (views.collection_delete): managers confirm, then it goes with its documents."""

import pytest
from django.urls import reverse

from documents.models import Chunk, Collection, Document

URL = reverse("documents:delete", args=["garden"])


def test_managers_are_asked_to_confirm(as_user, roses):
    page = as_user("mona").get(URL).content.decode()
    assert "Delete this collection?" in page and "1 document will be deleted" in page
    assert Collection.objects.filter(name="garden").exists()


def test_managers_delete_the_collection_and_its_documents(as_user, roses):
    response = as_user("bob").post(URL, follow=True)
    assert response.redirect_chain == [(reverse("documents:list"), 302)]
    assert "Deleted the collection “Garden notes”." in response.content.decode()
    assert not Collection.objects.filter(name="garden").exists()
    assert not Document.objects.filter(pk=roses.pk).exists() and not Chunk.objects.filter(document_id=roses.pk).exists()


@pytest.mark.parametrize("username", ["rita", "ed", "alice"])
def test_readers_editors_and_non_members_get_404(as_user, roses, alice, username):
    client = as_user(username)
    assert client.get(URL).status_code == 404 and client.post(URL).status_code == 404
    assert Collection.objects.filter(name="garden").exists()
