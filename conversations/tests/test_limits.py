"""Limits a user can run into, each with a message that says what happened and what to do."""

from django.test import Client
from django.urls import reverse

from conftest import STREAM, answer_question, run_at_once
from conversations import services
from conversations.models import ChatType, Message, MessageStatus


def _ask(client, question: str, **headers):
    return client.post(reverse("conversations:create"), {"question": question, "chat_type": "answer"}, **headers)


def test_asking_faster_than_the_rate_limit_is_refused_with_a_clear_message(alice_client, knowledge_base, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 2, 3600
    assert _ask(alice_client, "Kettle?").status_code == 302
    assert _ask(alice_client, "Roses?").status_code == 302

    refused = _ask(alice_client, "Tyres?")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "You have asked 2 questions in 3600 seconds" in page and "Please wait" in page
    assert "Tyres?" in page  # the question is given back in the form, not lost
    streamed = _ask(alice_client, "Tyres?", **STREAM)
    assert streamed.status_code == 429 and not streamed.streaming
    assert Message.objects.count() == 2


def test_the_rate_limit_is_per_user(client, alice, bob, knowledge_base, settings):
    settings.ASK_RATE_LIMIT = 1
    client.force_login(alice)
    _ask(client, "Kettle?")
    assert _ask(client, "Roses?").status_code == 429
    client.force_login(bob)
    assert _ask(client, "Roses?").status_code == 302


def test_parallel_questions_never_pass_the_limit(transactional_db, alice, knowledge_base, settings):
    """Twenty questions sent at once against a limit of five: five are stored and answered."""
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 5, 3600

    def ask():
        client = Client()
        client.force_login(alice)
        return _ask(client, "How do I descale the kettle?").status_code

    statuses, errors = run_at_once(ask, 20)
    assert not errors and sorted(statuses) == [302] * 5 + [429] * 15
    assert Message.objects.filter(status=MessageStatus.ANSWERED).count() == Message.objects.count() == 5


def test_every_model_call_has_the_timeout_including_the_follow_up_rewrite(alice, knowledge_base, openai_stub, settings):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    openai_stub.delay, settings.CHAT_MODEL_TIMEOUT = 3, 0.5
    follow_up = answer_question(conversation=conversation, question="And tomatoes?", chat_type="answer")
    assert len(openai_stub.requests) == 2  # the rewrite call was the one that timed out
    assert follow_up.status == MessageStatus.FAILED
    assert follow_up.error.startswith("The language model did not answer within 0.5 seconds.")


def test_the_token_budget_is_sent_with_every_answer(alice, knowledge_base, openai_stub, settings):
    settings.CHAT_MODEL_MAX_TOKENS = 321
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    sent = openai_stub.requests[0]
    assert sent.get("max_completion_tokens", sent.get("max_tokens")) == 321


def test_a_request_body_over_djangos_limit_gets_a_readable_page(alice_client, db):
    response = _ask(alice_client, "x" * 3_000_000)  # over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert Message.objects.count() == 0
