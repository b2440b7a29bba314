"""What a stored call's answer looks like to an OpenAI client: a whole ``chat.completion``, or
``chat.completion.chunk`` server-sent events streamed as the answer is written."""

from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, closing

from django.db import DatabaseError

from conversations import answering
from conversations.models import Message, MessageStatus
from interop import calls, completions

UNRECORDED = (
    "The database became unavailable while answering, so this answer could not be saved. "
    "Your question is saved in your conversations: retry it in a moment."
)


def whole(message: Message, *, model: str) -> dict:
    """The answered message as one chat completion."""
    ident, created = _identity(message)
    return completions.completion(
        ident=ident, created=created, model=model, text=message.answer, extra=_extra(message), tokens=_usage(message)
    )


def failure(message: Message) -> dict:
    """A failed answer as OpenAI's error, with the reason and the request id to quote."""
    reason = f"{message.error} (reference: {message.request_id})"
    return completions.error_body(reason, kind="server_error", code="answer_failed")


class Stream:
    """The answer as OpenAI's chunks: the role, the pieces, a last chunk with the sources, then
    the usage chunk when asked for, and [DONE]. A failure ends it with an error event instead."""

    def __init__(self, message: Message, *, model: str, history: list[tuple[str, str]], include_usage: bool):
        self.message, self.model, self.history, self.include_usage = message, model, history, include_usage
        self.ident, self.created = _identity(message)

    def chunk(self, delta: dict | None, **extra) -> str:
        body = completions.chunk(ident=self.ident, created=self.created, model=self.model, delta=delta, **extra)
        return completions.event(body)

    def events(self) -> Iterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            # Closed explicitly: a caller that goes away has its partial answer recorded now.
            with closing(answering.stream_answer(message=self.message, history=self.history)) as pieces:
                for piece in pieces:
                    yield self.chunk({"content": piece})
        except DatabaseError:
            yield completions.event(completions.error_body(UNRECORDED, kind="server_error"))
            return
        yield from self.ending()

    async def aevents(self) -> AsyncIterator[str]:
        yield self.chunk({"role": "assistant", "content": ""})
        try:
            async with aclosing(answering.astream_answer(message=self.message, history=self.history)) as pieces:
                async for piece in pieces:
                    yield self.chunk({"content": piece})
        except DatabaseError:
            yield completions.event(completions.error_body(UNRECORDED, kind="server_error"))
            return
        for event in self.ending():
            yield event

    def ending(self) -> Iterator[str]:
        """After the answer is recorded (the message holds its outcome; no query is made)."""
        if self.message.status == MessageStatus.FAILED:
            yield completions.event(failure(self.message))
            return
        yield self.chunk({}, finish="stop", **_extra(self.message))
        if self.include_usage:
            yield self.chunk(None, usage=_usage(self.message))
        yield completions.event("[DONE]")


def _identity(message: Message) -> tuple[str, int]:
    return f"chatcmpl-{message.pk}", int(message.created_at.timestamp())


def _extra(message: Message) -> dict:
    return {"sources": calls.sources(message), "conversation_id": message.conversation_id}


def _usage(message: Message) -> dict | None:
    return completions.usage(message.prompt_tokens, message.completion_tokens)
