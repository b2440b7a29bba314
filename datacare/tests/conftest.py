from types import SimpleNamespace

import pytest

from conftest import answer_question, write_files
from conversations import services
from conversations.models import ChatType, Conversation, Feedback, Message


def ask(conversation: Conversation, question: str) -> Message:
    return answer_question(conversation=conversation, question=question, chat_type=ChatType.ANSWER)


@pytest.fixture
def chats(knowledge_base, alice, bob):
    """Alice: two conversations, three answers (one rated up, one down, one hidden), one pending question.

    Bob: one conversation with one answer.
    """
    alice.email = "alice@example.org"
    alice.save()
    roses = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    up = services.message_set_feedback(
        message=ask(roses, "When do I prune roses?"), feedback=Feedback.UP, comment="Spot on"
    )
    hidden = ask(roses, "And the tomatoes?")
    Message.objects.filter(pk=hidden.pk).update(hidden=True, flagged=True)
    pending = services.message_create(conversation=roses, question="Unanswered?", chat_type=ChatType.ANSWER)
    kettle = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    down = services.message_set_feedback(message=ask(kettle, "How do I descale the kettle?"), feedback=Feedback.DOWN)
    bikes = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    bobs = ask(bikes, "How often should I oil my bicycle chain?")
    return SimpleNamespace(up=up, hidden=hidden, pending=pending, down=down, bobs=bobs, alice=alice, bob=bob)


@pytest.fixture
def alices_collections(chats, tmp_path):
    """Alice's "My documents" (two notes), a team collection she owns and shares, and Bob's own "My documents"."""
    from documents.collections import collection_get_or_create, collection_share, personal_collection
    from documents.models import Role, Visibility
    from documents.services import documents_import

    write_files(tmp_path / "alice", {"diary.md": "# Diary\n\nPlanted garlic.", "plans/2027.txt": "Plans\n\nA shed."})
    write_files(tmp_path / "bob", {"bob.md": "# Bob\n\nBob's notes on chains."})
    mine = personal_collection(chats.alice)
    assert not documents_import(paths=[tmp_path / "alice"], collection=mine.name).failed
    team, _ = collection_get_or_create(name="team", title="Team", owner=chats.alice, visibility=Visibility.PRIVATE)
    assert not documents_import(paths=[tmp_path / "bob"], collection="team").failed
    collection_share(collection=team, user=chats.bob, role=Role.EDITOR)
    bobs = personal_collection(chats.bob)
    assert not documents_import(paths=[tmp_path / "bob"], collection=bobs.name).failed
    return SimpleNamespace(mine=mine, team=team, bobs=bobs)
