import pytest

from conftest import answer_question
from conversations import answering, extractive, prompts, services
from conversations.models import ChatType, MessageSource, MessageStatus


@pytest.fixture
def conversation(alice):
    return services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)


def test_a_question_is_answered_from_the_knowledge_base_and_everything_is_recorded(knowledge_base, conversation):
    message = answer_question(
        conversation=conversation, question="How often should the bike chain be oiled?", chat_type=ChatType.ANSWER
    )
    message.refresh_from_db()
    assert message.status == MessageStatus.ANSWERED
    assert message.answer.startswith(extractive.NO_MODEL_NOTICE)
    assert "300 kilometres" in message.answer
    assert message.latency_ms is not None and message.answered_at is not None
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
    assert MessageSource.objects.filter(message=message).exists()


def test_a_model_that_times_out_fails_cleanly(knowledge_base, conversation, openai_stub, settings):
    openai_stub.delay = 3
    settings.CHAT_MODEL_TIMEOUT = 0.5
    message = answer_question(conversation=conversation, question="Roses?", chat_type=ChatType.ANSWER)
    assert message.status == MessageStatus.FAILED
    assert message.error == "The language model did not answer within 0.5 seconds. Please try again."
    assert "Timeout" in message.error_detail


def test_earlier_exchanges_are_sent_as_history(knowledge_base, conversation, openai_stub):
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    answer_question(conversation=conversation, question="What should I remove from roses first?", chat_type="answer")
    second = openai_stub.requests[1]["messages"]
    assert [m["content"] for m in second[1:3]] == ["When to prune roses?", "Roses are pruned in late winter [1]."]


def test_a_question_with_nothing_relevant_gets_a_plain_answer(knowledge_base, conversation, settings):
    settings.ANSWER_MIN_SIMILARITY = 0.99
    message = answer_question(conversation=conversation, question="Quantum chromodynamics?", chat_type="answer")
    assert message.answer == answering.NOTHING_FOUND
    assert message.context_used == []


def test_long_titles_are_cut_at_a_word():
    title = services.title_from_question("word " * 40)
    assert len(title) <= services.TITLE_CHARS and title.endswith("…")
