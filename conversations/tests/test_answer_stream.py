"""The streamed answer (views._answer_events): newline-delimited JSON events, start, the answer's
pieces, then the finished message, with the question stored first and the partial answer kept
when the stream breaks or the reader goes away."""

import json
import uuid

from conftest import STREAM, ask, read_events
from conversations import answering, extractive
from conversations.models import Message, MessageStatus


def test_the_answer_streams_as_events_and_is_stored_when_it_ends(alice_client, knowledge_base):
    response = ask(alice_client, "How often should the bike chain be oiled?", **STREAM)
    assert response["Content-Type"] == "application/x-ndjson"
    assert response.streaming
    events = read_events(response)

    assert events[0]["type"] == "start"
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert deltas == [  # the extractive answer streams too: the notice, then one piece per quote
        extractive.NO_MODEL_NOTICE,
        "\n\n> Oil the bicycle chain every 300 kilometres, then wipe off the excess oil with a rag. [1]",
        "\n\n> Check the tyre pressure weekly; road tyres need about 6 bar. [2]",
    ]
    done = events[-1]
    assert done["type"] == "done" and done["status"] == "answered"
    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.answer == "".join(deltas)
    assert 'class="citation"' in done["html"] and "300 kilometres" in done["html"]


def test_the_question_is_stored_before_the_model_answers(alice_client, knowledge_base, openai_stub):
    response = ask(alice_client, "When to prune roses?", **STREAM)
    stream = iter(response.streaming_content)
    start = json.loads(next(stream))
    message = Message.objects.get(pk=start["message_id"])
    assert message.question == "When to prune roses?" and message.status == MessageStatus.PENDING
    deltas = [event["text"] for event in read_events(stream) if event["type"] == "delta"]
    # The stub's first word at once, then the rest of its words, sent within milliseconds, joined (llm.Pacer).
    assert deltas[0] == "Roses " and "".join(deltas) == openai_stub.reply
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert (message.prompt_tokens, message.completion_tokens) == (123, 9)  # usage from the stream


def test_a_model_stream_that_breaks_keeps_what_arrived_and_marks_the_message_failed(
    alice_client, knowledge_base, openai_stub
):
    openai_stub.reply = "Prune roses in late winter above an outward bud [1]."
    openai_stub.drop_after = 3
    events = read_events(ask(alice_client, "When to prune roses?", **STREAM))

    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.FAILED
    assert message.answer == "Prune roses in "
    assert message.error == "The language model service could not be reached. Please try again later."
    assert events[-1]["status"] == "failed"
    assert "The answer is incomplete" in events[-1]["html"] and "Retry" in events[-1]["html"]


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
    response = ask(alice_client, "When to prune roses?", **STREAM)
    stream = iter(response.streaming_content)
    start = json.loads(next(stream))
    next(stream)
    response.close()

    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.FAILED and message.error == answering.STOPPED
    assert message.answer == "one "


def test_a_streamed_resubmission_gets_the_first_answer_without_answering_again(alice_client, knowledge_base):
    submission_id = uuid.uuid4().hex
    question = "How often should the bike chain be oiled?"
    first = read_events(ask(alice_client, question, submission_id=submission_id, **STREAM))
    answered_at = Message.objects.get().answered_at

    events = read_events(ask(alice_client, question, submission_id=submission_id, **STREAM))

    assert [e["type"] for e in events] == ["start", "done"]
    assert events[0]["message_id"] == first[0]["message_id"] and events[1]["status"] == "answered"
    assert Message.objects.get().answered_at == answered_at
    # Each start event hands out a fresh id for the form's next question.
    assert events[0]["next_submission_id"] != first[0]["next_submission_id"] != submission_id
