from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from documents.collections import (
    PersonalCollectionNotShared,
    collection_get_or_create,
    collection_share,
    collection_unshare,
)
from documents.models import Collection, Role, Visibility
from ragchat.commands import user_named


class Command(BaseCommand):
    help = (
        "Manage collections (knowledge bases): list them, create one, share one with a user or a group "
        "with a role (reader, editor, manager), take a share away, or delete one with its documents. "
        "Examples: collections share handbook --user bob --role reader; collections share handbook "
        "--group finance; collections unshare handbook --user bob. A personal collection "
        "(“My documents”) is never shared."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        actions.add_parser("list", help="Every collection with its visibility, owner, members and documents.")
        create = actions.add_parser("create", help="Make a collection.")
        create.add_argument("name", help="Its address: letters, digits, - and _.")
        create.add_argument("--title", default="")
        create.add_argument("--owner", help="Its owner's user name (default: nobody; staff manage it).")
        create.add_argument("--visibility", choices=Visibility.values, default=Visibility.PRIVATE)
        for verb, text in (("share", "Give a user or a group a role."), ("unshare", "Take a membership away.")):
            sub = actions.add_parser(verb, help=text)
            sub.add_argument("name")
            who = sub.add_mutually_exclusive_group(required=True)
            who.add_argument("--user")
            who.add_argument("--group")
            if verb == "share":
                sub.add_argument("--role", choices=Role.values, default=Role.READER)
        delete = actions.add_parser("delete", help="Delete a collection and every document in it.")
        delete.add_argument("name")
        delete.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, action: str, **options):
        getattr(self, f"_{action}")(**options)

    def _list(self, **options):
        rows = Collection.objects.select_related("owner").annotate(documents_count=Count("documents", distinct=True))
        for collection in rows.prefetch_related("memberships__user", "memberships__group"):
            members = ", ".join(f"{m.user or 'group ' + m.group.name} ({m.role})" for m in collection.memberships.all())
            owner = collection.owner.get_username() if collection.owner else "nobody"
            self.stdout.write(
                f"{collection.name}\t{collection.visibility}\towner {owner}\t"
                f"{collection.documents_count} document(s)\t{members or 'no members'}"
            )

    def _create(self, *, name: str, title: str, owner: str | None, visibility: str, **options):
        try:
            collection, created = collection_get_or_create(
                name=name, title=title, owner=user_named(owner) if owner else None, visibility=visibility
            )
        except ValidationError as exc:
            raise CommandError(f"{name!r} cannot name a collection: {' '.join(exc.messages)}") from None
        if not created:
            raise CommandError(f"A collection named {name!r} exists already.")
        self.stdout.write(self.style.SUCCESS(f"Created {collection.name} ({collection.visibility})."))

    def _share(self, *, name: str, user: str | None, group: str | None, role: str, **options):
        try:
            membership = collection_share(collection=_collection(name), role=role, **_member(user, group))
        except PersonalCollectionNotShared as refusal:
            raise CommandError(f"{name}: {refusal}") from None
        self.stdout.write(self.style.SUCCESS(f"{membership}."))

    def _unshare(self, *, name: str, user: str | None, group: str | None, **options):
        if not collection_unshare(collection=_collection(name), **_member(user, group)):
            raise CommandError(f"{user or group} is not a member of {name}.")
        self.stdout.write(self.style.SUCCESS(f"{user or group} no longer has access to {name} through a membership."))

    def _delete(self, *, name: str, yes: bool, **options):
        collection = _collection(name)
        count = collection.documents.count()
        if not yes and input(f"Delete {name} and its {count} document(s)? Type the name to confirm: ") != name:
            raise CommandError("Nothing deleted.")
        collection.delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {name} and its {count} document(s)."))


def _collection(name: str) -> Collection:
    collection = Collection.objects.filter(name=name).first()
    if collection is None:
        raise CommandError(f"No collection named {name!r}.")
    return collection


def _member(username: str | None, group_name: str | None) -> dict:
    if username:
        return {"user": user_named(username)}
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise CommandError(f"No group named {group_name!r}.")
    return {"group": group}
