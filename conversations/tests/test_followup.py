"""Follow-up questions (followup.py): the rule without a model, the rewrite with one, and what is searched."""

import pytest

from conftest import answer_question
from conversations import followup, llm, services
from conversations.models import ChatType, MessageStatus


@pytest.mark.parametrize(
    ("question", "is_follow_up"),
    [
        ("and how do I undo it?", True),
        ("What about tomatoes?", True),
        ("Why?", True),
        ("How do I remove limescale from an electric kettle?", False),
        ("Which tyre pressure suits road bikes in winter?", False),
        ("Can they be pruned in summer as well?", True),
    ],
)
def test_the_follow_up_rule(question, is_follow_up):
    assert followup.looks_like_follow_up(question) is is_follow_up


def test_without_a_model_a_follow_up_is_searched_with_the_previous_query():
    history = [("When should roses be pruned?", "When should roses be pruned?", "In late winter [1].")]
    assert followup.standalone_query("and what do I remove first?", history, None) == (
        "When should roses be pruned? and what do I remove first?"
    )
    assert followup.standalone_query("How do I descale an electric kettle?", history, None) == (
        "How do I descale an electric kettle?"
    )
    assert followup.standalone_query("Why?", [], None) == "Why?"


def test_the_rewritten_query_is_stored_and_finds_the_right_document(knowledge_base, alice):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    answer_question(conversation=conversation, question="How do I look after my roses?", chat_type="answer")
    follow_up = answer_question(conversation=conversation, question="And when do I prune them?", chat_type="answer")
    assert follow_up.search_query == "How do I look after my roses? And when do I prune them?"
    assert follow_up.context_used[0]["path"] == "garden/roses.md"


def test_with_a_model_the_model_rewrites_the_follow_up(knowledge_base, alice, openai_stub):
    openai_stub.replies = [
        "Roses are pruned in late winter [1].",
        "When should roses be pruned back hard?",
        "Hard pruning is done in late winter [1].",
    ]
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    follow_up = answer_question(conversation=conversation, question="And hard?", chat_type="answer")

    assert follow_up.search_query == "When should roses be pruned back hard?"
    rewrite_request = openai_stub.requests[1]["messages"]
    assert rewrite_request[0]["content"] == llm.REWRITE_PROMPT
    assert rewrite_request[-1]["content"] == "And hard?"
    assert follow_up.answer == "Hard pruning is done in late winter [1]."


def test_every_model_call_has_the_timeout_including_the_follow_up_rewrite(alice, knowledge_base, openai_stub, settings):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    openai_stub.delay, settings.CHAT_MODEL_TIMEOUT = 3, 0.5
    follow_up = answer_question(conversation=conversation, question="And tomatoes?", chat_type="answer")
    assert len(openai_stub.requests) == 2  # the rewrite call was the one that timed out
    assert follow_up.status == MessageStatus.FAILED
    assert follow_up.error.startswith("The language model did not answer within 0.5 seconds.")
