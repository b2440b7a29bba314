import pytest

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, MessageStatus


@pytest.fixture
def answered_and_failed(knowledge_base, alice):
    """One conversation of Alice's: an answered question and a failed summary."""
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    ok = answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    failed = services.message_create(conversation=conversation, question="Kettle limescale?", chat_type="summarize")
    failed.status, failed.error = MessageStatus.FAILED, "TimeoutError: the model took too long"
    failed.save()
    return ok, failed
