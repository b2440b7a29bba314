"""The MCP server at /mcp: ragchat's documents as tools for AI agents.

It speaks MCP's streamable HTTP transport through the official SDK (``mcp``), stateless (every
request stands alone, so any worker process may answer it) and with plain JSON responses. It is
an ASGI application beside Django's (``ragchat/asgi.py`` sends /mcp here), so Django's middleware
does not run for it: the host is checked against ALLOWED_HOSTS here, and callers authenticate
with the same personal API tokens as the OpenAI-compatible endpoint (the SDK's bearer-token hook,
``TokenVerifier``); no token or a refused one is answered 401.

Tools: ``search_documents`` (passages with their document, page and score) and ``ask`` (an
answer with its sources, stored as a conversation of the caller, like a call to /v1).
"""

import uuid
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError
from django.http.request import split_domain_port, validate_host
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from pydantic import BaseModel, Field
from starlette.responses import PlainTextResponse

from api.tokens import token_user
from conversations import answering
from conversations.models import Message, MessageStatus
from interop import calls
from ragchat.blocking import in_pool

PATH = "/mcp"
INSTRUCTIONS = (
    "ragchat holds the user's documents. search_documents finds passages (with document path, page and "
    "score); ask answers a question from them, citing passages as [n], and keeps the exchange in the "
    "user's conversations. Both see only the collections the user may read."
)
UNAVAILABLE = "The database is unavailable at the moment; please try again shortly."


async def _django(function: Callable[..., Any], /, **kwargs) -> Any:
    """Run ORM work in the bounded pool of blocking work (``ragchat.blocking``), which closes
    stale connections around it as Django does around a request; a database error becomes a
    sentence for the caller rather than the exception's text."""
    try:
        return await in_pool(function, **kwargs)
    except DatabaseError as exc:
        raise ToolError(UNAVAILABLE) from exc


class ApiTokens:
    """The SDK's ``TokenVerifier``: a ragchat API token stands for its user (``subject``)."""

    async def verify_token(self, token: str) -> AccessToken | None:
        user = await in_pool(token_user, token)
        if user is None:
            return None
        return AccessToken(token=token, client_id=f"user-{user.pk}", scopes=[], subject=str(user.pk))


def _caller_id() -> int:
    """The id of the user whose token authenticated this request (read where the request runs)."""
    return int(get_access_token().subject)


def _user(user_id: int) -> AbstractBaseUser:
    return get_user_model().objects.get(pk=user_id, is_active=True)


class Passage(BaseModel):
    path: str = Field(description="The document's path within its collection.")
    page: int | None = Field(description="The page or slide the passage starts on; null for formats without pages.")
    label: str = Field(description="How to name the source to people: the path, with its page.")
    title: str
    collection: str
    score: float = Field(description="The fused rank score of the hybrid search (higher is better).")
    similarity: float = Field(description="Cosine similarity of the passage to the query, from -1 to 1.")
    text: str


class Source(Passage):
    n: int = Field(description="The number the answer cites this passage by, as [n].")


class Answer(BaseModel):
    answer: str
    sources: list[Source]
    conversation_id: int = Field(description="The conversation the exchange is stored in.")


def _search(*, user_id: int, query: str, collections: list[str] | None, k: int) -> list[Passage]:
    user = _user(user_id)
    try:
        search = calls.checked_search(user, query=query, collections=collections, k=k)
    except calls.Refused as refused:
        raise ToolError(refused.reason) from None
    return [Passage(**passage) for passage in calls.search_passages(user, search)]


def _submit(*, user_id: int, question: str, collection: str | None) -> Message:
    """Check and store the question as the pages would (its limits, the rate limit counted)."""
    user = _user(user_id)
    try:
        chosen = calls.readable_collection(user, collection) if collection else None
        question = calls.checked_question(question)
        calls.count_question(user)
    except calls.Refused as refused:
        raise ToolError(refused.reason) from None
    request_id = uuid.uuid4().hex  # recorded on the message, as the pages record theirs
    return calls.call_submit(user=user, question=question, collection=chosen, request_id=request_id)


async def ask_question(*, user_id: int, question: str, collection: str | None) -> Answer:
    """Store the question, then answer it with the async pipeline, which holds no thread and no
    database connection while a chat model writes (only the reads and writes around it do)."""
    message = await _django(_submit, user_id=user_id, question=question, collection=collection)
    async with aclosing(answering.astream_answer(message=message, history=[])) as pieces:
        async for _ in pieces:
            pass
    if message.status == MessageStatus.FAILED:
        raise ToolError(f"{message.error} (reference: {message.request_id})")
    sources = [Source(**source) for source in calls.sources(message)]
    return Answer(answer=message.answer, sources=sources, conversation_id=message.conversation_id)


def build_server() -> MCPServer:
    server = MCPServer(
        "ragchat",
        instructions=INSTRUCTIONS,
        token_verifier=ApiTokens(),
        # The SDK asks for an issuer; ragchat issues its own tokens, and with no resource URL
        # given nothing advertises it to clients.
        auth=AuthSettings(issuer_url="https://ragchat.invalid", resource_server_url=None),
    )

    @server.tool()
    async def search_documents(query: str, collections: list[str] | None = None, k: int = 5) -> list[Passage]:
        """Find the passages of the user's documents that best match the query, best first.

        collections: names of collections to search (none: every collection the user can read).
        k: how many passages to return, 1 to 20.
        """
        return await _django(_search, user_id=_caller_id(), query=query, collections=collections, k=k)

    @server.tool()
    async def ask(question: str, collection: str | None = None) -> Answer:
        """Answer a question from the user's documents, citing passages as [n], with those sources.

        collection: the name of one collection to search (none: every collection the user can read).
        The exchange is kept in the user's conversations.
        """
        return await ask_question(user_id=_caller_id(), question=question, collection=collection)

    return server


class AllowedHostsOnly:
    """Refuse requests for a host Django would refuse (ALLOWED_HOSTS), as Django's middleware is not run here."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and not _allowed_host(scope):
            refusal = PlainTextResponse("This host is not served here (ALLOWED_HOSTS).", status_code=400)
            await refusal(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _allowed_host(scope) -> bool:
    host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
    allowed = settings.ALLOWED_HOSTS or ([".localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else [])
    domain, _ = split_domain_port(host)
    return bool(domain) and validate_host(domain, allowed)


def mcp_application():
    """The ASGI application (ragchat/asgi.py makes it once); its lifespan must run: it starts the
    SDK's session manager."""
    starlette_app = build_server().streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        # Django's limit on a request body (None: no limit of Django's, then the SDK's own).
        max_request_body_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_MAX_REQUEST_BODY_SIZE,
        # The host is checked by AllowedHostsOnly; tokens, not cookies, authenticate, so another
        # site's page cannot act as a signed-in user.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return AllowedHostsOnly(starlette_app)
