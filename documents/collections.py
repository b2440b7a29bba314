"""Collections: who may read and change which documents, and the writes that share them.

The read rule lives twice, on purpose: ``Collection.objects.readable_by`` for pages and
``search._READABLE`` inside the search statement, and a test holds them to the same answers.
"""

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.core.validators import validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from documents.models import PERSONAL_NOT_SHARED, ROLE_ORDER, Collection, Document, Membership, Role, Visibility

PERSONAL_TITLE = "My documents"


class PersonalCollectionNotShared(ValueError):
    """Raised when asked to share a personal collection ("My documents").

    A personal collection is private by definition, so it is never shared and never made
    organisation-wide (a check constraint holds the second):

    - it is its owner's data: deleting their data deletes it (datacare), and a colleague who had
      come to rely on it would lose its documents without warning;
    - every user's is called "My documents", so in a colleague's list it would read as theirs;
    - a collection meant for others exists already: a collection of its own, which outlives its
      owner (staff manage it once they leave).
    """

    def __init__(self, message: str = PERSONAL_NOT_SHARED):
        super().__init__(message)


def _strongest(user, collection: Collection, member_roles: Iterable[str]) -> Role | None:
    """The rule of ``role_of``, given the roles the user and their groups hold as members."""
    if collection.owner_id is not None and collection.owner_id == user.pk:
        return Role.MANAGER
    roles = set(member_roles)
    if collection.visibility == Visibility.ORGANISATION:
        roles.add(Role.READER)
    return max((Role(role) for role in roles), key=ROLE_ORDER.index, default=None)


def role_of(user, collection: Collection) -> Role | None:
    """The most a user may do in a collection: its owner manages it; members and the members of
    its groups have their role; everyone reads an organisation-wide collection."""
    return roles_in(user, [collection])[collection.pk]


def roles_in(user, collections: Iterable[Collection]) -> dict[int, Role | None]:
    """``role_of`` for many collections (by primary key), with one query for the memberships."""
    collections = list(collections)
    held: dict[int, list[str]] = {collection.pk: [] for collection in collections}
    memberships = Membership.objects.filter(Q(user=user) | Q(group__user=user), collection__in=collections)
    for collection_id, role in memberships.values_list("collection_id", "role"):
        held[collection_id].append(role)
    return {collection.pk: _strongest(user, collection, held[collection.pk]) for collection in collections}


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
    existing = Collection.objects.personal_of(user).first()
    if existing is not None:
        return existing
    name = f"personal-{user.pk}-{slugify(user.get_username())}"[:100]
    try:
        with transaction.atomic():
            return Collection.objects.create(
                name=name, title=PERSONAL_TITLE, owner=user, personal=True, visibility=Visibility.PRIVATE
            )
    except IntegrityError:  # two first uses at once: the constraint let one through
        return Collection.objects.personal_of(user).get()


def collection_share(*, collection: Collection, role: str, user=None, group: Group | None = None) -> Membership:
    """Give a user or a group a role in ``collection`` (or change the role they have).

    Raises PersonalCollectionNotShared for a personal collection, which is never shared.
    """
    if (user is None) == (group is None):
        raise ValueError("Share with a user or with a group.")
    if collection.personal:
        raise PersonalCollectionNotShared()
    membership, _ = Membership.objects.update_or_create(
        collection=collection, user=user, group=group, defaults={"role": role}
    )
    return membership


def collection_unshare(*, collection: Collection, user=None, group: Group | None = None) -> int:
    """Take a user's or a group's membership away; return how many were removed (0 or 1)."""
    return Membership.objects.filter(collection=collection, user=user, group=group).delete()[0]


def collection_rename(*, collection: Collection, title: str, description: str) -> Collection:
    """Give ``collection`` a new title and description; its name (its address) stays."""
    collection.title, collection.description = title, description
    collection.save(update_fields=["title", "description", "updated_at"])
    return collection


def collection_delete(*, collection: Collection) -> None:
    """Delete ``collection`` with its documents, passages and memberships. Answers that cited
    them keep the passages as they read (``Message.context_used``)."""
    collection.delete()


def document_delete(*, document: Document) -> None:
    """Delete ``document`` and its passages; answers that cited them keep them as they read."""
    document.delete()
