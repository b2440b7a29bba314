"""Data care: export or delete one user's data, purge old conversations.

The management commands of the same names are thin wrappers around these functions.
"""

import json
from dataclasses import dataclass, replace
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from conversations.models import Conversation, Message, MessageSource

# Personal account fields in a user's export; never the password hash, permissions or groups.
ACCOUNT_FIELDS = ("username", "email", "first_name", "last_name", "date_joined", "last_login")


@dataclass(frozen=True)
class Counts:
    """What an export or deletion covers (or would cover, in a dry run)."""

    conversations: int = 0
    messages: int = 0
    sources: int = 0
    accounts: int = 0

    def __str__(self) -> str:
        text = f"{self.conversations} conversation(s), {self.messages} message(s), {self.sources} message source(s)"
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
        accounts=per_model.get(get_user_model()._meta.label, 0),
    )


def _fields(obj: models.Model, *, exclude: tuple[str, ...] = ()) -> dict:
    """Every column of a row, so fields added to the model later are exported too."""
    return {f.attname: f.value_from_object(obj) for f in obj._meta.concrete_fields if f.name not in exclude}


def user_data_count(*, user) -> Counts:
    return replace(_counts(Conversation.objects.filter(owner=user)), accounts=1)


def user_data_export(*, user) -> dict:
    """Everything stored about one user: account, conversations, messages (hidden ones too) and sources."""
    conversations = Conversation.objects.filter(owner=user).order_by("created_at", "id")
    return {
        "exported_at": timezone.now(),
        "account": {name: getattr(user, name) for name in ACCOUNT_FIELDS},
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
    """Delete a user's conversations, messages and message sources, and the account unless kept.

    Deleting the account also deletes what cascades from it, such as the admin log entries of
    actions this user took as staff. A dry run counts and changes nothing.
    """
    conversations = Conversation.objects.filter(owner=user)
    if dry_run:
        return replace(_counts(conversations), accounts=0 if keep_account else 1)
    with transaction.atomic():
        counts = _deleted(conversations.delete()[1])
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
