import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from conftest import run_command as run
from conversations.models import Conversation, Message, MessageSource
from datacare import services


def snapshot(user) -> dict:
    data = services.user_data_export(user=user)
    del data["exported_at"]
    return json.loads(services.user_data_to_json(data))


def test_delete_user_data_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("delete_user_data", "nobody")


def test_delete_user_data_leaves_nothing_of_the_user_and_keeps_other_users_intact(chats):
    bob_before = snapshot(chats.bob)
    alices_messages = [chats.up.pk, chats.hidden.pk, chats.pending.pk, chats.down.pk]

    out, _ = run("delete_user_data", "alice")

    assert "Deleted 2 conversation(s), 4 message(s)" in out and "1 account(s)" in out
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not Conversation.objects.filter(owner_id=chats.alice.pk).exists()
    assert not Message.objects.filter(pk__in=alices_messages).exists()
    assert not MessageSource.objects.filter(message_id__in=alices_messages).exists()
    assert snapshot(chats.bob) == bob_before
    assert Message.objects.count() == 1 and MessageSource.objects.count() == chats.bobs.sources.count()


def test_delete_user_data_dry_run_counts_and_changes_nothing(chats):
    before = snapshot(chats.alice)
    sources = MessageSource.objects.filter(message__conversation__owner=chats.alice).count()
    out, _ = run("delete_user_data", "alice", "--dry-run")
    expected = f"Dry run: would delete 2 conversation(s), 4 message(s), {sources} message source(s), 1 account(s)"
    assert out.startswith(expected) and "nothing was changed" in out
    assert snapshot(chats.alice) == before


def test_delete_user_data_can_keep_the_account(chats):
    out, _ = run("delete_user_data", "alice", "--keep-account")
    assert "account" not in out
    assert get_user_model().objects.filter(username="alice").exists()
    assert snapshot(chats.alice)["conversations"] == []
    assert Message.objects.filter(pk=chats.bobs.pk).exists()
