"""Collections: who may read and change which documents, and the writes that share them.

The read rule lives twice, on purpose: ``Collection.objects.readable_by`` for pages and
``search.READABLE`` inside the search statement, and a test holds them to the same answers.
"""

from django.contrib.auth.models import Group
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from documents.models import ROLE_ORDER, Collection, Membership, Role, Visibility

PERSONAL_TITLE = "My documents"


def role_of(user, collection: Collection) -> Role | None:
    """The most a user may do in a collection: its owner manages it; members and the members of
    its groups have their role; everyone reads an organisation-wide collection."""
    if collection.owner_id is not None and collection.owner_id == user.pk:
        return Role.MANAGER
    roles = set(Membership.objects.filter(collection=collection, user=user).values_list("role", flat=True)) | set(
        Membership.objects.filter(collection=collection, group__user=user).values_list("role", flat=True)
    )
    if collection.visibility == Visibility.ORGANISATION:
        roles.add(Role.READER)
    return max((Role(role) for role in roles), key=ROLE_ORDER.index, default=None)


def may(user, collection: Collection, role: Role) -> bool:
    """Whether ``user`` holds ``role`` or a stronger one in ``collection``."""
    held = role_of(user, collection)
    return held is not None and ROLE_ORDER.index(held) >= ROLE_ORDER.index(role)


def collection_get_or_create(
    *, name: str, title: str = "", owner=None, visibility: str = Visibility.ORGANISATION
) -> tuple[Collection, bool]:
    """The collection called ``name``, made with these settings if it does not exist yet.

    Without an owner a collection is the organisation's, read by everyone signed in, as every
    collection was before collections could be private.
    """
    existing = Collection.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    validate_slug(name)  # a name is an address: letters, digits, - and _ only
    defaults = {"title": title or name, "owner": owner, "visibility": visibility}
    try:
        with transaction.atomic():
            return Collection.objects.get_or_create(name=name, defaults=defaults)
    except IntegrityError:  # made by someone else at the same moment
        return Collection.objects.get(name=name), False


def personal_collection(user) -> Collection:
    """The user's own collection ("My documents"), made the first time it is needed."""
    existing = Collection.objects.filter(owner=user, personal=True).first()
    if existing is not None:
        return existing
    name = f"personal-{user.pk}-{slugify(user.get_username())}"[:100]
    try:
        with transaction.atomic():
            return Collection.objects.create(
                name=name, title=PERSONAL_TITLE, owner=user, personal=True, visibility=Visibility.PRIVATE
            )
    except IntegrityError:  # two first uses at once: the constraint let one through
        return Collection.objects.get(owner=user, personal=True)


def collection_share(*, collection: Collection, role: str, user=None, group: Group | None = None) -> Membership:
    """Give a user or a group a role in ``collection`` (or change the role they have)."""
    if (user is None) == (group is None):
        raise ValueError("Share with a user or with a group.")
    membership, _ = Membership.objects.update_or_create(
        collection=collection, user=user, group=group, defaults={"role": role}
    )
    return membership


def collection_unshare(*, collection: Collection, user=None, group: Group | None = None) -> int:
    """Take a user's or a group's membership away; return how many were removed (0 or 1)."""
    return Membership.objects.filter(collection=collection, user=user, group=group).delete()[0]
