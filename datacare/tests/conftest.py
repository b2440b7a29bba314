from types import SimpleNamespace

import pytest

from conftest import answer_question
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
