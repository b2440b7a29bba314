from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import run_command as run
from conversations.models import Conversation, Message


def age(message: Message, days: int) -> None:
    Conversation.objects.filter(pk=message.conversation_id).update(updated_at=timezone.now() - timedelta(days=days))


def test_purge_deletes_conversations_of_every_user_not_updated_for_days(chats):
    age(chats.up, 40)  # alice's roses conversation
    age(chats.bobs, 31)
    age(chats.down, 29)

    out, _ = run("purge_conversations", "--older-than", "30", "--dry-run")
    assert out.startswith("Dry run: would delete 2 conversation(s), 4 message(s)")
    assert Conversation.objects.count() == 3

    out, _ = run("purge_conversations", "--older-than", "30")
    assert out.startswith("Deleted 2 conversation(s), 4 message(s)")
    assert list(Message.objects.all()) == [chats.down]


def test_purge_uses_the_retention_setting_and_refuses_when_it_keeps_forever(chats, settings):
    age(chats.bobs, 8)
    settings.CONVERSATION_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="CONVERSATION_RETENTION_DAYS is 0"):
        call_command("purge_conversations")
    assert Conversation.objects.count() == 3

    settings.CONVERSATION_RETENTION_DAYS = 7
    out, _ = run("purge_conversations")
    assert out.startswith("Deleted 1 conversation(s), 1 message(s)")
    assert not Conversation.objects.filter(owner=chats.bob).exists()


@pytest.mark.parametrize("days", ["0", "-5"])
def test_purge_refuses_fewer_than_one_day(days, db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_conversations", "--older-than", days)
