"""The regenerate view (views.message_regenerate): the conversation's last answer written again
(a retry after a failure, or another answer), metered like a question."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from conftest import STREAM, answer_question, ask, read_events
from conversations import services
from conversations.models import Feedback, Message, MessageStatus


def _ask(client) -> Message:
    ask(client, "When to prune roses?")
    return Message.objects.get()


def _regenerate(client, message: Message, **headers):
    return client.post(reverse("conversations:regenerate", args=[message.conversation_id, message.pk]), **headers)


def test_retry_answers_a_failed_question_again(alice_client, knowledge_base, openai_stub):
    openai_stub.status = 500
    events = read_events(ask(alice_client, "When to prune roses?", **STREAM))
    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.FAILED

    openai_stub.status = 200
    events = read_events(_regenerate(alice_client, message, **STREAM))
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and message.error == ""
    assert message.answer == "Roses are pruned in late winter [1]."
    assert Message.objects.count() == 1


def test_regenerate_without_javascript_replaces_the_last_answer(alice_client, knowledge_base, openai_stub):
    openai_stub.replies = ["First answer [1].", "Second answer [1]."]
    message = _ask(alice_client)
    response = _regenerate(alice_client, message)
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.answer == "Second answer [1]."


def test_only_the_last_answer_can_be_regenerated(alice_client, knowledge_base):
    ask(alice_client, "Roses?")
    first = Message.objects.get()
    ask(alice_client, "Kettle?", conversation=first.conversation)
    before = first.answer
    response = _regenerate(alice_client, first, follow=True)
    assert "Only the last answer" in response.content.decode()
    first.refresh_from_db()
    assert first.answer == before


def test_regenerating_another_users_answer_is_404(client, bob, knowledge_base, alice):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = answer_question(conversation=conversation, question="Roses?", chat_type="answer")
    client.force_login(bob)
    response = client.post(reverse("conversations:regenerate", args=[conversation.pk, message.pk]), {"feedback": 1})
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.feedback is None


def test_regenerating_counts_against_the_question_rate_limit(alice_client, knowledge_base, openai_stub, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 3, 3600
    message = _ask(alice_client)  # one model call of three
    statuses = [_regenerate(alice_client, message).status_code for _ in range(5)]

    assert statuses == [302, 302, 429, 429, 429]
    assert len(openai_stub.requests) == 3
    refused = _regenerate(alice_client, message, **STREAM)
    assert refused.status_code == 429 and not refused.streaming
    assert "You have asked 3 questions in 3600 seconds" in refused.content.decode()


def test_regenerating_drops_the_old_answers_feedback(alice_client, knowledge_base):
    message = _ask(alice_client)
    services.message_set_feedback(message=message, feedback=Feedback.DOWN, comment="Wrong season")
    _regenerate(alice_client, message)

    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert (message.feedback, message.feedback_comment, message.feedback_at) == (None, "", None)


def test_regenerating_records_the_new_request_id(alice_client, knowledge_base):
    message = _ask(alice_client)
    response = _regenerate(alice_client, message)
    message.refresh_from_db()
    assert message.request_id == response["X-Request-ID"]


def test_an_answer_whose_worker_died_can_be_retried_once_it_is_stalled(alice_client, alice, knowledge_base, settings):
    """A killed worker records nothing: the message stays pending. It is offered for retry only
    after ANSWER_STALL_SECONDS, so a slow answer still in progress is not answered twice."""
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Kettle?", chat_type="answer")
    page = reverse("conversations:detail", args=[conversation.pk])

    assert "Waiting for the answer" in alice_client.get(page).content.decode()
    _regenerate(alice_client, message)
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING  # refused: it may still be answering

    Message.objects.filter(pk=message.pk).update(
        answer_started_at=timezone.now() - timedelta(seconds=settings.ANSWER_STALL_SECONDS + 1)
    )
    assert "The answer was interrupted" in alice_client.get(page).content.decode()
    _regenerate(alice_client, message)
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and "vinegar" in message.answer


def test_regenerating_replaces_the_old_answers_sources(alice_client, knowledge_base):
    message = _ask(alice_client)
    before = list(message.sources.values_list("rank", flat=True))
    _regenerate(alice_client, message)

    message.refresh_from_db()
    assert list(message.sources.order_by("rank").values_list("rank", flat=True)) == before
    assert len(before) == len(message.context_used) > 0
