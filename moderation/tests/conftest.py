import pytest

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, Feedback, MessageStatus


@pytest.fixture
def exchanges(knowledge_base, alice, bob):
    """Alice's roses answer, rated down; Bob's kettle summary, answered by a model with token counts."""
    roses = answer_question(
        conversation=services.conversation_create(owner=alice, chat_type=ChatType.ANSWER),
        question="When to prune roses?",
        chat_type="answer",
    )
    services.message_set_feedback(message=roses, feedback=Feedback.DOWN, comment="Too vague")
    kettle = answer_question(
        conversation=services.conversation_create(owner=bob, chat_type=ChatType.ANSWER),
        question="How do I descale the kettle?",
        chat_type="summarize",
    )
    kettle.model_name = "openai:gpt-test"
    kettle.prompt_tokens, kettle.completion_tokens = 100, 20
    kettle.save()
    return roses, kettle


@pytest.fixture
def answered_and_failed(knowledge_base, alice):
    """One conversation of Alice's: an answered question and a failed summary."""
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    ok = answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    failed = services.message_create(conversation=conversation, question="Kettle limescale?", chat_type="summarize")
    failed.status, failed.error = MessageStatus.FAILED, "TimeoutError: the model took too long"
    failed.save()
    return ok, failed
