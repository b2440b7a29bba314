"""A user's personal collection ("My documents", collections.personal_collection): made on first
use, and never shared or made organisation-wide, whichever way it is asked (service, admin, database)."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.html import escape

from documents.collections import PersonalCollectionNotShared, collection_share, personal_collection, role_of
from documents.models import PERSONAL_NOT_SHARED, Collection, Membership, Role, Visibility


def test_it_is_made_once_on_first_use_private_to_its_owner(alice, bob):
    assert not Collection.objects.filter(personal=True).exists()
    mine = personal_collection(alice)
    assert personal_collection(alice) == mine and Collection.objects.filter(personal=True).count() == 1
    assert (mine.title, mine.owner, mine.visibility) == ("My documents", alice, Visibility.PRIVATE)
    assert role_of(alice, mine) == Role.MANAGER and role_of(bob, mine) is None


@pytest.mark.parametrize("role", Role.values)
def test_it_cannot_be_shared_with_a_user_or_a_group(alice, bob, role):
    mine = personal_collection(alice)
    with pytest.raises(PersonalCollectionNotShared, match="cannot be shared"):
        collection_share(collection=mine, user=bob, role=role)
    with pytest.raises(PersonalCollectionNotShared):
        collection_share(collection=mine, group=Group.objects.create(name="everyone"), role=role)
    assert not Membership.objects.exists() and role_of(bob, mine) is None


def test_the_database_refuses_to_make_it_organisation_wide(alice):
    mine = personal_collection(alice)
    mine.visibility = Visibility.ORGANISATION
    with pytest.raises(ValidationError) as refused:
        mine.full_clean()
    assert PERSONAL_NOT_SHARED in refused.value.messages
    with pytest.raises(IntegrityError), transaction.atomic():
        mine.save()


def _change_form(collection: Collection, **changes) -> dict:
    """The admin's change form of ``collection`` as a browser posts it, with no member rows."""
    form = {"name": collection.name, "title": collection.title, "description": collection.description,
            "owner": collection.owner_id, "visibility": collection.visibility,
            "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0,
            "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000}  # fmt: skip
    return form | changes


def test_staff_cannot_share_it_or_open_it_to_everyone_in_the_admin(staff_client, alice, bob):
    mine = personal_collection(alice)
    url = reverse("admin:documents_collection_change", args=[mine.pk])
    member = {"memberships-TOTAL_FORMS": 1, "memberships-0-user": bob.pk, "memberships-0-role": Role.READER}

    for changes in ({"visibility": Visibility.ORGANISATION}, member):
        response = staff_client.post(url, _change_form(mine, **changes))
        assert response.status_code == 200 and escape(PERSONAL_NOT_SHARED) in response.content.decode()
    mine.refresh_from_db()
    assert mine.visibility == Visibility.PRIVATE and not Membership.objects.exists()
    # Other collections are shared there as before.
    other = Collection.objects.create(name="team", title="Team", owner=alice)
    response = staff_client.post(
        reverse("admin:documents_collection_change", args=[other.pk]), _change_form(other, **member)
    )
    assert response.status_code == 302 and role_of(bob, other) == Role.READER


def test_the_personal_flag_is_not_for_staff_to_set(staff_client, alice):
    team = Collection.objects.create(name="team", title="Team", owner=alice)
    url = reverse("admin:documents_collection_change", args=[team.pk])
    staff_client.post(url, _change_form(team, personal="on"))
    team.refresh_from_db()
    assert team.personal is False


def test_a_member_row_without_a_collection_is_refused_for_that_alone(bob):
    with pytest.raises(ValidationError) as refused:
        Membership(user=bob, role=Role.READER).full_clean()
    assert list(refused.value.message_dict) == ["collection"]
