"""The regenerate view: the conversation's last answer written again, metered like a question."""

from django.urls import reverse

from conftest import STREAM, run_at_once
from conversations import services
from conversations.models import Feedback, Message, MessageStatus


def _ask(client) -> Message:
    client.post(reverse("conversations:create"), {"question": "When to prune roses?", "chat_type": "answer"})
    return Message.objects.get()


def _regenerate(client, message: Message, **headers):
    return client.post(reverse("conversations:regenerate", args=[message.conversation_id, message.pk]), **headers)


def test_regenerating_counts_against_the_question_rate_limit(alice_client, knowledge_base, openai_stub, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 3, 3600
    message = _ask(alice_client)  # one model call of three
    statuses = [_regenerate(alice_client, message).status_code for _ in range(5)]

    assert statuses == [302, 302, 429, 429, 429]
    assert len(openai_stub.requests) == 3
    refused = _regenerate(alice_client, message, **STREAM)
    assert refused.status_code == 429 and not refused.streaming
    assert "You have asked 3 questions in 3600 seconds" in refused.content.decode()


def test_two_regenerate_clicks_at_once_answer_once(transactional_db, alice, knowledge_base):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Roses?", chat_type="answer")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.ANSWERED, answer="Prune in winter.")

    results, errors = run_at_once(lambda: services.message_reset(message=Message.objects.get(pk=message.pk)), 2)
    assert not errors and sorted(results) == [False, True]


def test_a_question_still_being_answered_is_not_reset(alice, db):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Roses?", chat_type="answer")
    assert not services.message_reset(message=message)  # pending, and recently started


def test_regenerating_drops_the_old_answers_feedback(alice_client, knowledge_base):
    message = _ask(alice_client)
    services.message_set_feedback(message=message, feedback=Feedback.DOWN, comment="Wrong season")
    _regenerate(alice_client, message)

    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert (message.feedback, message.feedback_comment, message.feedback_at) == (None, "", None)
