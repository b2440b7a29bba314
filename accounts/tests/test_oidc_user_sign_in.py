"""accounts.services.oidc_user_sign_in: which user verified claims sign in as, and their groups."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import OidcIdentity
from accounts.services import oidc_user_sign_in
from conftest import make_user

ISSUER = "https://id.example.org"


def claims(sub: str = "1234", **more) -> dict:
    return {"sub": sub, "preferred_username": "ines", "email": "ines@example.org", **more}


def group_names(user) -> set[str]:
    return {group.name for group in user.groups.all()}


def test_the_same_sub_signs_in_as_the_same_user_whatever_its_name_and_address_become(db):
    first = oidc_user_sign_in(issuer=ISSUER, claims=claims())
    again = oidc_user_sign_in(issuer=ISSUER, claims=claims(preferred_username="ines.b", email="ines.b@example.org"))
    assert again == first and again.username == "ines"  # the user name stays; the address follows
    assert again.email == "ines.b@example.org"


def test_the_same_sub_at_another_issuer_is_another_person(db):
    assert oidc_user_sign_in(issuer=ISSUER, claims=claims()) != oidc_user_sign_in(
        issuer="https://other.example.org", claims=claims()
    )


def test_a_staff_linked_identity_signs_in_as_that_local_account(db):
    local = make_user("ines-local", email="ines@example.org")
    OidcIdentity.objects.create(user=local, issuer=ISSUER, subject="1234")  # as staff add it in the admin
    assert oidc_user_sign_in(issuer=ISSUER, claims=claims()) == local


@pytest.mark.parametrize(
    ("wanted", "made"),
    [
        ({"preferred_username": "ines m/x"}, "ines-m-x"),
        ({"preferred_username": None}, "ines"),
        ({"preferred_username": None, "email": None}, "user"),
    ],
)
def test_user_names_are_made_valid_from_what_the_claims_offer(db, wanted, made):
    assert oidc_user_sign_in(issuer=ISSUER, claims=claims(**wanted)).username == made


def test_without_a_map_provider_groups_join_only_django_groups_of_the_same_name(db, settings):
    settings.OIDC_GROUPS_MAP = {}
    Group.objects.create(name="finance")

    user = oidc_user_sign_in(issuer=ISSUER, claims=claims(groups=["finance", "everyone-at-the-provider"]))

    assert group_names(user) == {"finance"}
    assert not Group.objects.filter(name="everyone-at-the-provider").exists()


def test_with_a_map_only_mapped_groups_count_and_are_made_when_missing(db, settings):
    settings.OIDC_GROUPS_MAP = {"fin": "finance"}
    user = oidc_user_sign_in(issuer=ISSUER, claims=claims(groups=["fin", "finance", "other"]))
    assert group_names(user) == {"finance"}


def test_groups_the_provider_no_longer_gives_are_removed_and_a_missing_claim_removes_them_all(db, settings):
    settings.OIDC_GROUPS_MAP = {"fin": "finance", "ops": "operations"}
    user = oidc_user_sign_in(issuer=ISSUER, claims=claims(groups=["fin", "ops"]))
    oidc_user_sign_in(issuer=ISSUER, claims=claims(groups=["ops"]))
    assert group_names(user) == {"operations"}
    oidc_user_sign_in(issuer=ISSUER, claims=claims())
    assert group_names(user) == set()


def test_a_groups_claim_named_otherwise_and_given_as_one_string_is_read(db, settings):
    settings.OIDC_GROUPS_CLAIM, settings.OIDC_GROUPS_MAP = "roles", {"fin": "finance"}
    assert group_names(oidc_user_sign_in(issuer=ISSUER, claims=claims(roles="fin"))) == {"finance"}
