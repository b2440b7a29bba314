"""Sharing (views.collection_share): managers give users and groups a role, or change it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import escape

from documents.collections import personal_collection, role_of
from documents.models import PERSONAL_NOT_SHARED, Membership, Role

URL = reverse("documents:share", args=["garden"])


def test_managers_share_with_a_user(as_user, garden, alice):
    response = as_user("mona").post(URL, {"username": "alice", "role": Role.EDITOR}, follow=True)
    assert response.redirect_chain == [(reverse("documents:manage", args=["garden"]), 302)]
    assert "alice is now Editor" in response.content.decode()
    assert role_of(alice, garden) == Role.EDITOR


def test_managers_share_with_a_group(as_user, garden, alice):
    gardeners = Group.objects.create(name="gardeners")
    alice.groups.add(gardeners)
    as_user("bob").post(URL, {"group": "gardeners", "role": Role.READER})
    assert role_of(alice, garden) == Role.READER


def test_sharing_again_changes_the_role(as_user, garden):
    as_user("bob").post(URL, {"username": "rita", "role": Role.MANAGER})
    assert Membership.objects.get(collection=garden, user__username="rita").role == Role.MANAGER


@pytest.mark.parametrize(
    "body, error",
    [
        ({"username": "nobody", "role": Role.READER}, "There is no user called “nobody”."),
        ({"group": "nobody", "role": Role.READER}, "There is no group called “nobody”."),
        ({"role": Role.READER}, "Name a user or a group (one of the two)."),
        ({"username": "rita", "group": "gardeners", "role": Role.READER}, "Name a user or a group (one of the two)."),
    ],
)
def test_a_share_must_name_one_existing_user_or_group(as_user, garden, body, error):
    Group.objects.create(name="gardeners")
    before = list(Membership.objects.values())
    response = as_user("bob").post(URL, body)
    assert response.status_code == 200 and error in response.content.decode()
    assert list(Membership.objects.values()) == before


@pytest.mark.parametrize("username", ["rita", "ed", "alice"])
def test_readers_editors_and_non_members_cannot_share(as_user, garden, alice, username):
    response = as_user(username).post(URL, {"username": username, "role": Role.MANAGER})
    assert response.status_code == 404
    assert (
        role_of(alice, garden) is None and role_of(garden.memberships.get(role=Role.EDITOR).user, garden) == Role.EDITOR
    )


def test_my_documents_cannot_be_shared_and_the_page_says_why(as_user, alice, bob):
    mine = personal_collection(alice)
    manage = as_user("alice").get(reverse("documents:manage", args=[mine.name])).content.decode()
    assert "cannot be shared" in manage and reverse("documents:share", args=[mine.name]) not in manage

    url = reverse("documents:share", args=[mine.name])
    response = as_user("alice").post(url, {"username": "bob", "role": Role.READER}, follow=True)
    assert response.redirect_chain == [(reverse("documents:manage", args=[mine.name]), 302)]
    assert escape(PERSONAL_NOT_SHARED) in response.content.decode()
    assert role_of(bob, mine) is None and not Membership.objects.exists()
