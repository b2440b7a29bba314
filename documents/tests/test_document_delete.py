"""Deleting a document (views.document_delete): editors and managers confirm, then it goes."""

import pytest
from django.urls import reverse

from documents.models import Chunk, Document


def url(document) -> str:
    return reverse("documents:document_delete", args=["garden", document.pk])


def test_editors_are_asked_to_confirm(as_user, roses):
    page = as_user("ed").get(url(roses)).content.decode()
    assert "Delete this document?" in page and "roses.md" in page
    assert Document.objects.filter(pk=roses.pk).exists()


@pytest.mark.parametrize("username", ["ed", "mona", "bob"])
def test_editors_and_managers_delete_a_document_and_its_passages(as_user, roses, username):
    response = as_user(username).post(url(roses), follow=True)
    assert response.redirect_chain == [(reverse("documents:collection", args=["garden"]), 302)]
    assert "Deleted “Roses”." in response.content.decode()
    assert not Document.objects.filter(pk=roses.pk).exists() and not Chunk.objects.filter(document_id=roses.pk).exists()


@pytest.mark.parametrize("username", ["rita", "alice"])
def test_readers_and_non_members_get_404(as_user, roses, alice, username):
    client = as_user(username)
    assert client.get(url(roses)).status_code == 404 and client.post(url(roses)).status_code == 404
    assert Document.objects.filter(pk=roses.pk).exists()
