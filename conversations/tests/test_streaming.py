import json

import pytest
from django.urls import reverse

from conftest import STREAM, answer_question, read_events
from conversations import answering, extractive, services
from conversations.models import Conversation, Message, MessageStatus


def ask_streaming(client, question: str, conversation: Conversation | None = None):
    url = reverse("conversations:ask", args=[conversation.pk]) if conversation else reverse("conversations:create")
    return client.post(url, {"question": question, "chat_type": "answer"}, **STREAM)


def test_the_answer_streams_as_events_and_is_stored_when_it_ends(alice_client, knowledge_base):
    response = ask_streaming(alice_client, "How often should the bike chain be oiled?")
    assert response["Content-Type"] == "application/x-ndjson"
    assert response.streaming
    events = read_events(response)

    assert events[0]["type"] == "start"
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert deltas[0] == extractive.NO_MODEL_NOTICE and len(deltas) >= 2  # the extractive answer streams too
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "answered"
    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.answer == "".join(deltas)
    assert 'class="citation"' in done["html"] and "300 kilometres" in done["html"]


def test_the_question_is_stored_before_the_model_answers(alice_client, knowledge_base, openai_stub):
    response = ask_streaming(alice_client, "When to prune roses?")
    stream = iter(response.streaming_content)
    start = json.loads(next(stream))
    message = Message.objects.get(pk=start["message_id"])
    assert message.question == "When to prune roses?" and message.status == MessageStatus.PENDING
    assert "".join(chunk.decode() for chunk in stream).count('"delta"') >= 2
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert (message.prompt_tokens, message.completion_tokens) == (123, 9)  # usage from the stream


def test_a_model_stream_that_breaks_keeps_what_arrived_and_marks_the_message_failed(
    alice_client, knowledge_base, openai_stub
):
    openai_stub.reply = "Prune roses in late winter above an outward bud [1]."
    openai_stub.drop_after = 3
    events = read_events(ask_streaming(alice_client, "When to prune roses?"))

    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.FAILED
    assert message.answer == "Prune roses in "
    assert message.error == "The language model service could not be reached. Please try again later."
    assert events[-1]["status"] == "failed"
    assert "The answer is incomplete" in events[-1]["html"] and "Retry" in events[-1]["html"]


def test_stopping_the_stream_keeps_the_partial_answer(alice, knowledge_base, openai_stub):
    """The WSGI server closes the answer's generator when the browser goes away (Stop, tab closed)."""
    openai_stub.reply = "one two three four five six seven eight"
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="When to prune roses?", chat_type="answer")
    stream = answering.stream_answer(message=message)
    assert next(stream) == "one "
    stream.close()

    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.error == answering.STOPPED
    assert message.answer == "one "
    assert message.context_used  # what was retrieved is kept too


def test_retry_answers_a_failed_question_again(alice_client, knowledge_base, openai_stub):
    openai_stub.status = 500
    events = read_events(ask_streaming(alice_client, "When to prune roses?"))
    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.FAILED

    openai_stub.status = 200
    url = reverse("conversations:regenerate", args=[message.conversation_id, message.pk])
    events = read_events(alice_client.post(url, **STREAM))
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED and message.error == ""
    assert message.answer == "Roses are pruned in late winter [1]."
    assert Message.objects.count() == 1


def test_regenerate_without_javascript_replaces_the_last_answer(alice_client, knowledge_base, openai_stub):
    openai_stub.replies = ["First answer [1].", "Second answer [1]."]
    alice_client.post(reverse("conversations:create"), {"question": "Roses?", "chat_type": "answer"})
    message = Message.objects.get()
    response = alice_client.post(reverse("conversations:regenerate", args=[message.conversation_id, message.pk]))
    assert response.status_code == 302
    message.refresh_from_db()
    assert message.answer == "Second answer [1]."


def test_only_the_last_answer_can_be_regenerated(alice_client, knowledge_base):
    alice_client.post(reverse("conversations:create"), {"question": "Roses?", "chat_type": "answer"})
    first = Message.objects.get()
    alice_client.post(
        reverse("conversations:ask", args=[first.conversation_id]), {"question": "Kettle?", "chat_type": "answer"}
    )
    before = first.answer
    url = reverse("conversations:regenerate", args=[first.conversation_id, first.pk])
    response = alice_client.post(url, follow=True)
    assert "Only the last answer" in response.content.decode()
    first.refresh_from_db()
    assert first.answer == before


@pytest.mark.parametrize("view", ["regenerate", "feedback"])
def test_message_actions_are_404_for_other_users(client, bob, knowledge_base, alice, view):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = answer_question(conversation=conversation, question="Roses?", chat_type="answer")
    client.force_login(bob)
    response = client.post(reverse(f"conversations:{view}", args=[conversation.pk, message.pk]), {"feedback": 1})
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.feedback is None


def test_a_closed_response_records_the_partial_answer_at_once(
    transactional_db, alice_client, knowledge_base, openai_stub, monkeypatch
):
    """The server closes the response when the client goes away; the answer must not wait for the
    interpreter to finalise the answering generator (here something still holds it)."""
    held = []

    def stream_answer(*, message):
        held.append(real(message=message))
        return held[-1]

    real = answering.stream_answer
    monkeypatch.setattr(answering, "stream_answer", stream_answer)
    openai_stub.reply = "one two three four five six"
    response = ask_streaming(alice_client, "When to prune roses?")
    stream = iter(response.streaming_content)
    start = json.loads(next(stream))
    next(stream)
    response.close()

    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.FAILED and message.error == answering.STOPPED
    assert message.answer == "one "
