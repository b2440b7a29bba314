"""The answering pipeline (answering.py): what is stored for a question, the history sent with it,
the reply written with or without a model, and how failures and partial answers are recorded."""

import pytest
from django.utils import timezone
from django.utils.html import escape

from conftest import STREAM, answer_question, ask, make_chunk, read_events
from conversations import answering, extractive, llm, prompts, services
from conversations.models import ChatType, Message, MessageSource, MessageStatus
from documents.search import RetrievedChunk

FAKE = prompts.ModelChoice(model="fake:scripted", temperature=0, timeout=5, max_tokens=100)


@pytest.fixture
def conversation(alice):
    """A new conversation, untitled: the first question names it."""
    return services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)


def reply(question: str, passages: list[RetrievedChunk], choice: prompts.ModelChoice | None = None) -> str:
    """The whole text ``write_reply`` gives for the answer prompt, without history."""
    setup = prompts.AnswerSetup(None, prompts.BUILT_IN_PROMPTS["answer"], choice)
    pieces = answering.write_reply(question=question, passages=passages, history=[], setup=setup, usage=llm.Usage())
    return "".join(pieces)


# --- write_reply -------------------------------------------------------------------------------


def test_without_a_model_the_answer_quotes_the_best_sentences_with_citations(db):
    sources = [
        make_chunk("Tomatoes like sun. Water tomatoes at the base in the morning. Stake them early.", 1),
        make_chunk("Roses are pruned in late winter. Feed them in spring with manure.", 2),
    ]
    result = reply("When do I prune roses?", sources)
    assert result.startswith(extractive.NO_MODEL_NOTICE)
    assert "> Roses are pruned in late winter. [2]" in result
    quotes = [line for line in result.splitlines() if line.startswith("> ")]
    assert len(quotes) == extractive.EXTRACTIVE_SENTENCES  # five sentences to choose from
    # Every quote is a sentence of the passage it cites.
    for quote in quotes:
        sentence, number = quote[2:].rsplit(" [", 1)
        assert sentence in sources[int(number.rstrip("]")) - 1].text


def test_with_nothing_retrieved_the_answer_says_so_and_no_model_is_called(fake_chat_model):
    fake_chat_model()  # no replies: calling it would fail
    assert reply("Anything?", [], choice=FAKE) == answering.NOTHING_FOUND


def test_a_configured_model_writes_the_answer(fake_chat_model):
    fake_chat_model("Prune them in late winter [1].")
    assert reply("Roses?", [make_chunk("Prune roses in winter.")], choice=FAKE) == "Prune them in late winter [1]."


# --- A stored question answered ----------------------------------------------------------------


def test_a_question_is_answered_from_the_knowledge_base_and_everything_is_recorded(knowledge_base, conversation):
    message = answer_question(
        conversation=conversation, question="How often should the bike chain be oiled?", chat_type=ChatType.ANSWER
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert message.answer.startswith(extractive.NO_MODEL_NOTICE)
    assert "300 kilometres" in message.answer
    assert type(message.latency_ms) is int and message.latency_ms > 0
    assert message.created_at < message.answered_at < timezone.now()
    assert message.context_used[0]["n"] == 1 and message.context_used[0]["path"] == "bikes.html"
    sources = list(message.sources.select_related("chunk"))
    assert [s.rank for s in sources] == list(range(1, len(sources) + 1))
    assert sources[0].chunk.text == message.context_used[0]["text"]
    assert sources[0].score >= sources[-1].score
    conversation.refresh_from_db()
    assert conversation.title == "How often should the bike chain be oiled?"


def test_the_answer_of_a_fake_langchain_model_is_stored(knowledge_base, conversation, fake_chat_model, settings):
    settings.CHAT_MODEL = "fake:scripted"
    fake_chat_model("Oil it every 300 km [1].")
    message = answer_question(conversation=conversation, question="Chain oil?", chat_type=ChatType.ANSWER)
    assert message.status == MessageStatus.ANSWERED
    assert message.answer == "Oil it every 300 km [1]."


def test_a_real_openai_client_against_a_local_server(knowledge_base, conversation, openai_stub):
    message = answer_question(conversation=conversation, question="When to prune roses?", chat_type=ChatType.EXPLAIN)
    assert message.answer == "Roses are pruned in late winter [1]."
    assert message.model_name == "openai:gpt-test"
    assert (message.prompt_tokens, message.completion_tokens) == (123, 9)
    sent = openai_stub.requests[0]
    assert sent["model"] == "gpt-test"
    assert sent["messages"][0]["content"] == prompts.BUILT_IN_PROMPTS[ChatType.EXPLAIN]
    assert "Prune roses in late winter" in sent["messages"][-1]["content"]


def test_earlier_exchanges_are_sent_as_history(knowledge_base, conversation, openai_stub):
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    answer_question(conversation=conversation, question="What should I remove from roses first?", chat_type="answer")
    second = openai_stub.requests[1]["messages"]
    assert [m["content"] for m in second[1:3]] == ["When to prune roses?", "Roses are pruned in late winter [1]."]


def test_history_given_by_the_caller_replaces_the_stored_one_and_keeps_the_last_turns(
    knowledge_base, conversation, openai_stub
):
    answer_question(conversation=conversation, question="How do I descale the kettle?", chat_type="answer")
    message = services.message_create(conversation=conversation, question="And what first?", chat_type="answer")
    given = [(f"Question {n}?", f"Answer {n}.") for n in range(1, llm.HISTORY_TURNS + 2)]

    answering.answer_message(message=message, history=given)

    sent = [m["content"] for m in openai_stub.requests[-1]["messages"][1:-1]]
    assert sent == [text for turn in given[-llm.HISTORY_TURNS :] for text in turn]
    assert message.status == MessageStatus.ANSWERED


def test_a_question_with_nothing_relevant_gets_a_plain_answer(knowledge_base, conversation, settings):
    settings.ANSWER_MIN_SIMILARITY = 0.99
    message = answer_question(conversation=conversation, question="Quantum chromodynamics?", chat_type="answer")
    assert message.answer == answering.NOTHING_FOUND
    assert message.context_used == []


# --- Failures and partial answers --------------------------------------------------------------


def test_a_model_error_is_stored_on_the_message_and_the_question_kept(knowledge_base, conversation, openai_stub):
    openai_stub.status = 500
    message = answer_question(conversation=conversation, question="When to prune roses?", chat_type=ChatType.ANSWER)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.question == "When to prune roses?"
    assert message.error == "The language model service failed (HTTP 500). Please try again."
    assert message.error_detail.startswith("OpenAIAPIError: Error code: 500") and "overloaded" in message.error_detail
    assert message.answer == ""
    # What was retrieved is still recorded, for whoever investigates.
    assert message.context_used[0]["path"] == "garden/roses.md"
    assert MessageSource.objects.filter(message=message).count() == len(message.context_used)


def test_a_model_that_times_out_fails_cleanly(knowledge_base, conversation, openai_stub, settings):
    openai_stub.delay = 3
    settings.CHAT_MODEL_TIMEOUT = 0.5
    message = answer_question(conversation=conversation, question="Roses?", chat_type=ChatType.ANSWER)
    assert message.status == MessageStatus.FAILED
    assert message.error == "The language model did not answer within 0.5 seconds. Please try again."
    assert message.error_detail == "OpenAITimeoutError: Request timed out."


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"delay": 3}, "The language model did not answer within 0.5 seconds. Please try again."),
        ({"status": 500}, "The language model service failed (HTTP 500). Please try again."),
        ({"status": 429}, "The language model service is busy (rate limited). Please try again in a minute."),
        (
            {"status": 401},
            "The language model service refused this site's credentials; an administrator must fix them.",
        ),
        # Cut mid-answer: what arrived is kept, marked incomplete.
        ({"drop_after": 2}, "The language model service could not be reached. Please try again later."),
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

    events = read_events(ask(alice_client, "When to prune roses?", **STREAM))
    failed = Message.objects.get(pk=events[0]["message_id"])
    assert events[-1] == {**events[-1], "type": "done", "status": "failed"}
    assert failed.status == MessageStatus.FAILED and failed.question == "When to prune roses?"
    assert failed.error == reason and escape(reason) in events[-1]["html"]
    if "drop_after" in fault:
        assert failed.answer == "Prune roses " and "The answer is incomplete" in events[-1]["html"]
    assert failed.sources.count() == len(failed.context_used)  # the record is whole, not half-written

    openai_stub.delay, openai_stub.status, openai_stub.drop_after = 0, 200, None
    events = read_events(
        ask(alice_client, "How often should the bike chain be oiled?", conversation=failed.conversation, **STREAM)
    )
    assert events[-1]["status"] == "answered"
    assert Message.objects.get(pk=events[0]["message_id"]).answer == openai_stub.reply


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
    # What was retrieved is kept too.
    assert message.context_used[0]["path"] == "garden/roses.md"
    assert message.sources.count() == len(message.context_used)
