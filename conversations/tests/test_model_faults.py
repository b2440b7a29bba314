"""The chat model failing in each way it can: the user gets a readable reason, the question and
whatever arrived are kept, nothing is half-written, and the next question is answered."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import STREAM
from conversations import services
from conversations.models import Message, MessageStatus


def _ask_streaming(client, url: str, question: str) -> list[dict]:
    response = client.post(url, {"question": question, "chat_type": "answer"}, **STREAM)
    return [json.loads(line) for chunk in response.streaming_content for line in chunk.decode().splitlines()]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"delay": 3}, "The language model did not answer within 0.5 seconds."),
        ({"status": 500}, "The language model service failed (HTTP 500)."),
        ({"status": 429}, "The language model service is busy (rate limited)."),
        ({"status": 401}, "The language model service refused this site"),
        ({"drop_after": 2}, ""),  # cut mid-answer: what arrived is kept, marked incomplete
    ],
    ids=["timeout", "server error", "rate limited", "bad credentials", "stream cut"],
)
def test_a_failing_model_leaves_a_clear_failed_message_and_the_next_question_works(
    alice_client, knowledge_base, openai_stub, settings, fault, reason
):
    settings.CHAT_MODEL_TIMEOUT = 0.5
    openai_stub.reply = "Prune roses in late winter, just above an outward-facing bud [1]."
    for name, value in fault.items():
        setattr(openai_stub, name, value)

    events = _ask_streaming(alice_client, reverse("conversations:create"), "When to prune roses?")
    failed = Message.objects.get(pk=events[0]["message_id"])
    assert events[-1] == {**events[-1], "type": "done", "status": "failed"}
    assert failed.status == MessageStatus.FAILED and failed.question == "When to prune roses?"
    assert reason in failed.error and reason in events[-1]["html"]
    if "drop_after" in fault:
        assert failed.answer == "Prune roses " and "The answer is incomplete" in events[-1]["html"]
    assert failed.sources.count() == len(failed.context_used)  # the record is whole, not half-written

    openai_stub.delay, openai_stub.status, openai_stub.drop_after = 0, 200, None
    url = reverse("conversations:ask", args=[failed.conversation_id])
    events = _ask_streaming(alice_client, url, "How often should the bike chain be oiled?")
    assert events[-1]["status"] == "answered"
    assert Message.objects.get(pk=events[0]["message_id"]).answer == openai_stub.reply


def test_an_answer_whose_worker_died_can_be_retried_once_it_is_stalled(alice_client, alice, knowledge_base, settings):
    """A killed worker records nothing: the message stays pending. It is offered for retry only
    after ANSWER_STALL_SECONDS, so a slow answer still in progress is not answered twice."""
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Kettle?", chat_type="answer")
    retry = reverse("conversations:regenerate", args=[conversation.pk, message.pk])
    page = reverse("conversations:detail", args=[conversation.pk])

    assert "Waiting for the answer" in alice_client.get(page).content.decode()
    alice_client.post(retry)
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING  # refused: it may still be answering

    Message.objects.filter(pk=message.pk).update(
        answer_started_at=timezone.now() - timedelta(seconds=settings.ANSWER_STALL_SECONDS + 1)
    )
    assert "The answer was interrupted" in alice_client.get(page).content.decode()
    alice_client.post(retry)
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and "vinegar" in message.answer
