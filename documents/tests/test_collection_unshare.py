"""Removing a member (views.collection_unshare): managers only."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from documents.collections import collection_share
from documents.models import Membership, Role

URL = reverse("documents:unshare", args=["garden"])


def test_managers_remove_a_user(as_user, garden):
    response = as_user("mona").post(URL, {"username": "rita"}, follow=True)
    assert "rita no longer has a role here." in response.content.decode()
    assert not Membership.objects.filter(collection=garden, user__username="rita").exists()


def test_managers_remove_a_group(as_user, garden):
    collection_share(collection=garden, group=Group.objects.create(name="gardeners"), role=Role.READER)
    as_user("bob").post(URL, {"group": "gardeners"})
    assert not Membership.objects.filter(collection=garden, group__isnull=False).exists()


@pytest.mark.parametrize("username", ["rita", "ed"])
def test_readers_and_editors_cannot_remove_members(as_user, garden, username):
    assert as_user(username).post(URL, {"username": "mona"}).status_code == 404
    assert Membership.objects.filter(collection=garden, user__username="mona").exists()


def test_non_members_get_404(as_user, garden, alice):
    assert as_user("alice").post(URL, {"username": "rita"}).status_code == 404
    assert Membership.objects.filter(collection=garden).count() == 3
