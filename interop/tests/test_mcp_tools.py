"""The MCP tools' work, in-process where a test can set the rate limit and the chat model (the
tools over the wire, with the official client: test_mcp.py)."""

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from conversations.models import Message, MessageStatus
from interop import mcp_server


def test_ask_counts_against_the_pages_rate_limit(alice, knowledge_base, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 1, 3600
    mcp_server._ask(user_id=alice.pk, question="How do I descale the kettle?", collection=None)
    with pytest.raises(ToolError, match="^You have asked 1 questions in 3600 seconds"):
        mcp_server._ask(user_id=alice.pk, question="When to prune roses?", collection=None)
    assert Message.objects.count() == 1


def test_a_failing_model_is_a_tool_error_with_the_reason_and_the_question_is_kept(alice, knowledge_base, openai_stub):
    openai_stub.status = 500
    with pytest.raises(ToolError) as failed:
        mcp_server._ask(user_id=alice.pk, question="How do I descale the kettle?", collection="default")
    message = Message.objects.get(conversation__owner=alice)
    assert message.status == MessageStatus.FAILED
    assert str(failed.value) == f"{message.error} (reference: {message.request_id})"
    assert [collection.name for collection in message.conversation.collections.all()] == ["default"]
