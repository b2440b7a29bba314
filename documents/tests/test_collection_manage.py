"""The manage page (views.collection_manage): members and their roles, for managers only."""

import pytest
from django.urls import reverse

URL = reverse("documents:manage", args=["garden"])


@pytest.mark.parametrize("username", ["bob", "mona"])
def test_managers_see_the_members_and_their_roles(as_user, garden, username):
    page = as_user(username).get(URL).content.decode()
    assert "rita" in page and "ed" in page and "mona" in page
    assert '<option value="editor" selected>Editor</option>' in page
    assert reverse("documents:share", args=["garden"]) in page and reverse("documents:delete", args=["garden"]) in page


@pytest.mark.parametrize("username", ["rita", "ed", "alice"])
def test_readers_editors_and_non_members_get_404(as_user, garden, alice, username):
    assert as_user(username).get(URL).status_code == 404
