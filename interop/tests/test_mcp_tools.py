"""The MCP tools' work, in-process where a test can set the rate limit and the chat model (the
tools over the wire, with the official client: test_mcp.py)."""

import asyncio

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from conversations.models import Message, MessageStatus
from interop import mcp_server

# The tool's work runs in other threads, with connections of their own: they must see the test's rows.
pytestmark = pytest.mark.django_db(transaction=True)


def ask(user, question: str, collection: str | None = None) -> mcp_server.Answer:
    return asyncio.run(mcp_server.ask_question(user_id=user.pk, question=question, collection=collection))


def test_ask_counts_against_the_pages_rate_limit(alice, knowledge_base, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 1, 3600
    assert "white vinegar" in ask(alice, "How do I descale the kettle?").answer
    with pytest.raises(ToolError, match="^You have asked 1 questions in 3600 seconds"):
        ask(alice, "When to prune roses?")
    assert Message.objects.count() == 1


def test_a_failing_model_is_a_tool_error_with_the_reason_and_the_question_is_kept(alice, knowledge_base, openai_stub):
    openai_stub.status = 500
    with pytest.raises(ToolError) as failed:
        ask(alice, "How do I descale the kettle?", collection="default")
    message = Message.objects.get(conversation__owner=alice)
    assert message.status == MessageStatus.FAILED
    assert str(failed.value) == f"{message.error} (reference: {message.request_id})"
    assert [collection.name for collection in message.conversation.collections.all()] == ["default"]
