"""Single sign-on's groups and the knowledge base's sharing together: a collection shared with a
Django group follows the provider's groups from one sign-in to the next. (Here because it spans two
rooms that may not import each other: accounts and documents.)"""

from django.contrib.auth.models import Group

from accounts.services import oidc_user_sign_in
from documents.collections import collection_get_or_create, collection_share
from documents.models import Collection, Visibility


def test_a_collection_shared_with_a_mapped_group_follows_the_provider_groups(db, settings):
    settings.OIDC_GROUPS_MAP = {"finance-team": "accounting"}
    finance, _ = collection_get_or_create(name="finance", visibility=Visibility.PRIVATE)
    collection_share(collection=finance, role="reader", group=Group.objects.create(name="accounting"))
    signed_in = {"sub": "7", "preferred_username": "jo", "groups": ["finance-team"]}

    jo = oidc_user_sign_in(issuer="https://id.example.org", claims=signed_in)
    assert finance in Collection.objects.readable_by(jo)

    oidc_user_sign_in(issuer="https://id.example.org", claims={**signed_in, "groups": ["somewhere-else"]})
    assert finance not in Collection.objects.readable_by(jo)
