"""Renaming (views.collection_rename): managers change the title and description, not the name."""

import pytest
from django.urls import reverse

from documents.models import Collection

URL = reverse("documents:rename", args=["garden"])


def test_managers_rename_the_collection(as_user, garden):
    response = as_user("mona").post(URL, {"title": "Allotment", "description": "Plot 7."}, follow=True)
    assert response.redirect_chain == [(reverse("documents:manage", args=["garden"]), 302)]
    assert "Collection renamed." in response.content.decode()
    garden.refresh_from_db()
    assert (garden.name, garden.title, garden.description) == ("garden", "Allotment", "Plot 7.")


def test_a_blank_title_is_refused(as_user, garden):
    response = as_user("bob").post(URL, {"title": "   ", "description": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    assert Collection.objects.get(name="garden").title == "Garden notes"


@pytest.mark.parametrize("username", ["rita", "ed", "alice"])
def test_readers_editors_and_non_members_cannot_rename(as_user, garden, alice, username):
    assert as_user(username).post(URL, {"title": "Taken over", "description": ""}).status_code == 404
    assert Collection.objects.get(name="garden").title == "Garden notes"
