"""The MCP server at /mcp, called with the official ``mcp`` client over streamable HTTP, against
ragchat under uvicorn: its tools, its tokens, and what each user may search."""

import asyncio
import json
from datetime import timedelta

import httpx2
import pytest
from django.utils import timezone
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from api.models import ApiToken
from api.tokens import token_create, token_revoke
from conftest import make_user
from conversations.models import Conversation, MessageStatus

pytestmark = pytest.mark.django_db(transaction=True)


async def _session_run(url: str, token: str | None, work):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await work(session)


def with_session(live_ragchat: str, token: str | None, work):
    """Run ``work(session)`` in an initialised MCP client session; return its result."""
    return asyncio.run(_session_run(f"{live_ragchat}/mcp", token, work))


def call(live_ragchat: str, token: str, tool: str, **arguments):
    async def work(session):
        return await session.call_tool(tool, arguments)

    return with_session(live_ragchat, token, work)


def post(live_ragchat: str, token: str | None = None, host: str | None = None) -> httpx2.Response:
    """A bare JSON-RPC request to /mcp, for what the client would not send."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    headers |= {"Authorization": f"Bearer {token}"} if token else {}
    headers |= {"Host": host} if host else {}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    return httpx2.post(f"{live_ragchat}/mcp", headers=headers, content=json.dumps(body), timeout=30)


def test_the_server_offers_its_two_tools(live_ragchat, alice_token):
    async def work(session):
        return await session.list_tools()

    tools = {tool.name: tool for tool in with_session(live_ragchat, alice_token, work).tools}
    assert set(tools) == {"search_documents", "ask"}
    assert set(tools["search_documents"].input_schema["properties"]) == {"query", "collections", "k"}


def test_search_finds_passages_with_their_document_page_and_score(live_ragchat, alice_token, knowledge_base):
    result = call(live_ragchat, alice_token, "search_documents", query="How often should I oil the chain?", k=2)
    assert not result.is_error
    passages = result.structured_content["result"]
    assert len(passages) == 2
    best = passages[0]
    assert best["path"] == "bikes.html" and best["collection"] == "default" and best["page"] is None
    assert "300 kilometres" in best["text"] and best["label"] == "bikes.html"
    assert best["score"] >= passages[1]["score"] and -1 <= best["similarity"] <= 1


def test_ask_answers_with_sources_and_stores_the_exchange(live_ragchat, alice, alice_token, knowledge_base):
    result = call(live_ragchat, alice_token, "ask", question="How do I descale the kettle?")
    assert not result.is_error
    answer = result.structured_content
    assert "white vinegar" in answer["answer"] and "[1]" in answer["answer"]
    assert answer["sources"][0]["n"] == 1 and answer["sources"][0]["path"] == "kettle.txt"
    conversation = Conversation.objects.get(pk=answer["conversation_id"], owner=alice)
    [message] = conversation.messages.all()
    assert conversation.title == "How do I descale the kettle?"
    assert message.status == MessageStatus.ANSWERED and message.request_id


def test_another_users_collection_is_not_searchable(live_ragchat, alices_private, alice_token, bob_token):
    mine = call(live_ragchat, alice_token, "search_documents", query="safe code", collections=["alices"])
    assert [passage["path"] for passage in mine.structured_content["result"]] == ["diary.txt"]
    refused = call(live_ragchat, bob_token, "search_documents", query="safe code", collections=["alices"])
    assert refused.is_error
    assert refused.content[0].text.endswith("There is no collection named 'alices' that you can read.")
    everything = call(live_ragchat, bob_token, "search_documents", query="What is the safe's code?", k=20)
    assert "diary.txt" not in {passage["path"] for passage in everything.structured_content["result"]}
    asked = call(live_ragchat, bob_token, "ask", question="What is the safe's code?", collection="alices")
    assert asked.is_error and "no collection named 'alices'" in asked.content[0].text


def test_bad_arguments_are_refused_with_a_reason_and_store_nothing(live_ragchat, alice_token, settings):
    too_many = call(live_ragchat, alice_token, "search_documents", query="roses", k=500)
    assert too_many.is_error and too_many.content[0].text.endswith("k is the number of passages wanted, from 1 to 20.")
    long = call(live_ragchat, alice_token, "ask", question="x" * (settings.MAX_QUESTION_CHARS + 1))
    assert long.is_error and f"at most {settings.MAX_QUESTION_CHARS} characters" in long.content[0].text
    blank = call(live_ragchat, alice_token, "ask", question="   ")
    assert blank.is_error and blank.content[0].text.endswith(": Please type a question.")
    assert not Conversation.objects.exists()


def test_no_token_a_revoked_or_an_expired_token_gets_401(live_ragchat, alice):
    revoked, revoked_raw = token_create(user=alice, name="revoked")
    token_revoke(token=revoked)
    expired_raw = token_create(user=alice, name="expired", expires_at=timezone.now() + timedelta(days=1))[1]
    ApiToken.objects.filter(name="expired").update(expires_at=timezone.now() - timedelta(seconds=1))
    inactive_raw = token_create(user=make_user("carol", is_active=False), name="inactive")[1]

    for token in (None, "rc_not-a-token", revoked_raw, expired_raw, inactive_raw):
        response = post(live_ragchat, token)
        assert response.status_code == 401, token
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_host_django_would_refuse_is_refused(live_ragchat, alice_token):
    assert post(live_ragchat, alice_token, host="evil.example").status_code == 400
    assert post(live_ragchat, alice_token).status_code == 200
