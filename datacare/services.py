"""Data care: export or delete one user's data, purge old conversations.

A user's data is their account, their conversations (messages, sources) and their personal
collection ("My documents") with its documents and passages. Collections they own that others may
read are not theirs alone: they stay, owned by nobody (staff manage them), as the foreign key says.

The management commands of the same names are thin wrappers around these functions.
"""

import json
from dataclasses import dataclass, replace
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from conversations.models import Conversation, Message, MessageSource
from documents.jobs import collection_jobs_delete
from documents.models import Collection, Document, Membership

# Personal account fields in a user's export; never the password hash, permissions or groups.
ACCOUNT_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")


@dataclass(frozen=True)
class Counts:
    """What an export or deletion covers (or would cover, in a dry run)."""

    conversations: int = 0
    messages: int = 0
    sources: int = 0
    documents: int = 0  # in the user's personal collection
    accounts: int = 0

    def __str__(self) -> str:
        text = f"{self.conversations} conversation(s), {self.messages} message(s), {self.sources} message source(s)"
        text += f", {self.documents} personal document(s)" if self.documents else ""
        return text + (f", {self.accounts} account(s)" if self.accounts else "")


def _counts(conversations: models.QuerySet) -> Counts:
    messages = Message.objects.filter(conversation__in=conversations)
    return Counts(
        conversations=conversations.count(),
        messages=messages.count(),
        sources=MessageSource.objects.filter(message__in=messages).count(),
    )


def _deleted(per_model: dict[str, int]) -> Counts:
    """Counts from the per-model totals that QuerySet.delete() returns (cascades included)."""
    return Counts(
        conversations=per_model.get(Conversation._meta.label, 0),
        messages=per_model.get(Message._meta.label, 0),
        sources=per_model.get(MessageSource._meta.label, 0),
        documents=per_model.get(Document._meta.label, 0),
        accounts=per_model.get(get_user_model()._meta.label, 0),
    )


def _fields(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every column of a row, so fields added to the model later are exported too."""
    return {f.attname: _plain(f.value_from_object(obj)) for f in obj._meta.concrete_fields if f.name not in exclude}


def _plain(value):
    # A file column (a document's original) is exported as its name in storage, not its bytes.
    return value.name if isinstance(value, FieldFile) else value


def _personal_documents(user) -> models.QuerySet:
    return Document.objects.filter(collection__in=Collection.objects.personal_of(user))


def user_data_count(*, user) -> Counts:
    counts = _counts(Conversation.objects.filter(owner=user))
    return replace(counts, documents=_personal_documents(user).count(), accounts=1)


def _personal_collection_export(user) -> dict | None:
    """The user's "My documents" with the documents in it (not their text, nor their vectors,
    which are computed from the text), or None if it was never made."""
    collection = Collection.objects.personal_of(user).first()
    if collection is None:
        return None
    documents = collection.documents.order_by("path")
    return _fields(collection, exclude=("owner",)) | {
        "documents": [_fields(document, exclude=("collection", "embedding")) for document in documents]
    }


def user_data_export(*, user) -> dict:
    """Everything stored about one user: account, conversations, messages (hidden ones too) and sources,
    their personal collection's documents, the other collections they own and their memberships."""
    conversations = Conversation.objects.filter(owner=user).order_by("created_at", "id")
    owned = Collection.objects.filter(owner=user, personal=False).order_by("name")
    memberships = Membership.objects.filter(user=user).values_list("collection__name", "role", "created_at")
    return {
        "exported_at": timezone.now(),
        "account": {name: getattr(user, name) for name in ACCOUNT_FIELDS},
        "personal_collection": _personal_collection_export(user),
        "owned_collections": list(owned.values("name", "title", "visibility", "created_at")),
        "memberships": [
            {"collection": name, "role": role, "created_at": since} for name, role, since in memberships.order_by("pk")
        ],
        "conversations": [
            _fields(conversation, exclude=("owner",))
            | {
                "messages": [
                    _fields(message, exclude=("conversation",))
                    | {"sources": [_fields(s, exclude=("id", "message")) for s in message.sources.all()]}
                    for message in conversation.messages.all()
                ]
            }
            for conversation in conversations.prefetch_related("messages__sources")
        ],
    }


def user_data_to_json(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def user_data_delete(*, user, keep_account: bool = False, dry_run: bool = False) -> Counts:
    """Delete a user's conversations, messages and message sources, their personal collection with
    its documents and passages, and the account unless kept.

    Deleting the account also deletes what cascades from it, such as the admin log entries of
    actions this user took as staff and their memberships; collections they own that are not
    personal stay, owned by nobody. A dry run counts and changes nothing.
    """
    conversations = Conversation.objects.filter(owner=user)
    if dry_run:
        return replace(user_data_count(user=user), accounts=0 if keep_account else 1)
    with transaction.atomic():
        counts = _deleted(conversations.delete()[1])
        # Before the account: the owner key of a collection is SET_NULL, which would leave it owned by nobody.
        personal = Collection.objects.personal_of(user)
        # Its import jobs name its files (paths, failure reasons): they go with it.
        collection_jobs_delete(collections=list(personal.values_list("name", flat=True)))
        counts = replace(counts, documents=_deleted(personal.delete()[1]).documents)
        if not keep_account:
            counts = replace(counts, accounts=_deleted(user.delete()[1]).accounts)
    return counts


def conversations_purge(*, older_than_days: int, dry_run: bool = False) -> Counts:
    """Delete every user's conversations not updated for older_than_days days, with their messages."""
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1.")
    old = Conversation.objects.filter(updated_at__lt=timezone.now() - timedelta(days=older_than_days))
    if dry_run:
        return _counts(old)
    with transaction.atomic():
        return _deleted(old.delete()[1])
