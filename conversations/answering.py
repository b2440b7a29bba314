"""Answering a question: the one pipeline behind every way of asking.

``stream_answer(message=...)`` answers a stored question piece by piece and records the outcome
on the message when the stream ends, however it ends (finished, failed, stopped by the reader,
the connection dropped). The streamed page, the page without JavaScript (``answer_message``),
the ``ask`` command and any later caller go through it; ``astream_answer`` is the same for async
callers (the ASGI server's streamed answers), holding no thread or connection while the model
writes. ``Exchange`` is the pipeline itself (follow-up query, retrieval, the reply) and stores
nothing, so ``ask`` can also preview an answer without keeping it.

No transaction is held open while the model works, so a slow or failing answer never blocks
the database.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import asdict, dataclass

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from conversations import llm
from conversations.extractive import NO_MODEL_NOTICE, extractive_quotes
from conversations.failures import describe_failure
from conversations.followup import astandalone_query, standalone_query
from conversations.models import Message, MessageSource, MessageStatus
from conversations.prompts import AnswerSetup, answer_setup
from documents.models import Chunk
from documents.retrieval import relevant, retrieve
from documents.search import Reader, RetrievedChunk
from ragchat.blocking import in_pool

logger = logging.getLogger(__name__)
NOTHING_FOUND = "Nothing in the documents matches this question closely enough to answer it."
STOPPED = "The answer was stopped before it was complete."


@dataclass
class Answer:
    text: str
    model_name: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Exchange:
    """One question answered: iterate for the answer's text as it is produced.

    Afterwards ``search_query``, ``passages``, ``answer``, ``error`` and ``latency_ms`` hold
    the outcome. Errors from the search or the model end the iteration and are kept in
    ``error``; they are not raised. ``history`` holds earlier turns as (question, search query,
    answer), oldest first.
    """

    def __init__(self, *, question: str, chat_type: str, reader: Reader, collections=None, history=()):
        self.question, self.chat_type = question, chat_type
        self.reader, self.collections = reader, list(collections) if collections else None
        self.history: list[tuple[str, str, str]] = list(history)
        self.setup: AnswerSetup | None = None
        self.search_query = question
        self.passages: list[RetrievedChunk] = []
        self.parts: list[str] = []
        self.usage = llm.Usage()
        self.model_name = ""
        self.error = ""
        self.error_detail = ""
        self.latency_ms: int | None = None

    def __iter__(self) -> Iterator[str]:
        with self._outcome():
            written = self._answer_locally()
            if written is None:  # the model has work: rewrite a follow-up first if need be, then reply
                if self._model_rewrites():
                    self._search(standalone_query(self.question, self.history, self.setup.model))
                written = write_reply(**self._reply_inputs())
            for piece in written:
                if self._keep(piece):
                    yield piece

    async def astream(self) -> AsyncIterator[str]:
        """The same steps for async callers. What waits on no model (the setup, the search, an
        extractive answer) runs as one step in the bounded pool (``ragchat.blocking``): each step
        queues there behind other requests' steps, so fewer steps answer sooner under load. Waiting
        on the model holds no thread."""
        with self._outcome():
            written = await in_pool(self._answer_locally)
            if written is not None:
                for piece in written:
                    if self._keep(piece):
                        yield piece
                return
            if self._model_rewrites():
                query = await astandalone_query(self.question, self.history, self.setup.model)
                await in_pool(self._search, query)
            async for piece in awrite_reply(**self._reply_inputs()):
                if self._keep(piece):
                    yield piece

    def _answer_locally(self) -> list[str] | None:
        """The setup, then the search unless the model must first rewrite a follow-up, then the
        whole reply unless the model writes it. Returns the reply's pieces, or None while the model has work."""
        self._use(answer_setup(self.chat_type))
        if self._model_rewrites():
            return None
        self._search(standalone_query(self.question, self.history, self.setup.model))
        if self.passages and self.setup.model is not None:
            return None
        return list(write_reply(**self._reply_inputs()))

    def _model_rewrites(self) -> bool:
        """Whether the model rewrites the question before the search: a follow-up, with a model."""
        return bool(self.history) and self.setup.model is not None

    def _keep(self, piece: str) -> bool:
        """Keep a piece of the answer; an empty one is neither kept nor sent."""
        if piece:
            self.parts.append(piece)
        return bool(piece)

    def _use(self, setup: AnswerSetup) -> None:
        self.setup = setup
        self.model_name = setup.model.model if setup.model else ""

    def _search(self, query: str) -> None:
        self.search_query = query
        self.passages = relevant(retrieve(query, reader=self.reader, collections=self.collections))
        if not self.passages:
            self.model_name = ""  # no model is asked

    def _reply_inputs(self) -> dict:
        history = [(question, answer) for question, _, answer in self.history]
        return {"question": self.question, "passages": self.passages, "history": history, "setup": self.setup,
                "usage": self.usage}  # fmt: skip

    @contextmanager
    def _outcome(self) -> Iterator[None]:
        """Keep how the answer ended: stopped by the reader, failed (said why), or finished."""
        started = time.perf_counter()
        try:
            yield
        # The reader went away (the user stopped it, the connection dropped): a sync generator is
        # closed (GeneratorExit), an async one is closed or its task cancelled (CancelledError).
        except (GeneratorExit, asyncio.CancelledError):
            self.error = STOPPED
            raise
        except Exception as exc:  # the model or the search failed: keep the question, say why
            logger.exception("Answering failed")
            model = self.setup.model if self.setup else None
            failure = describe_failure(exc, timeout=model.timeout if model else None)
            self.error, self.error_detail = failure.reason, failure.detail
        finally:
            self.latency_ms = round((time.perf_counter() - started) * 1000)

    def run(self) -> "Exchange":
        """Answer to the end without reading the pieces."""
        for _ in self:
            pass
        return self

    @property
    def answer(self) -> Answer:
        return Answer(
            text="".join(self.parts),
            model_name=self.model_name,
            prompt_tokens=self.usage.prompt_tokens,
            completion_tokens=self.usage.completion_tokens,
        )


def write_reply(
    *,
    question: str,
    passages: list[RetrievedChunk],
    history: list[tuple[str, str]],
    setup: AnswerSetup,
    usage: llm.Usage,
) -> Iterator[str]:
    """The answer's text from the passages: the model's reply, or without a model the extractive
    answer (the notice, then each quote). ``history`` holds earlier (question, answer) turns."""
    if not passages:
        yield NOTHING_FOUND
        return
    if setup.model is None:
        yield NO_MODEL_NOTICE
        for quote in extractive_quotes(question, passages):
            yield "\n\n" + quote
        return
    prompt = llm.build_prompt(system_prompt=setup.system_prompt, question=question, passages=passages, history=history)
    yield from llm.stream_reply(setup.model, prompt, usage)


async def awrite_reply(
    *,
    question: str,
    passages: list[RetrievedChunk],
    history: list[tuple[str, str]],
    setup: AnswerSetup,
    usage: llm.Usage,
) -> AsyncIterator[str]:
    """``write_reply`` for async callers: the model's reply streams without holding a thread."""
    if passages and setup.model is not None:
        prompt = llm.build_prompt(
            system_prompt=setup.system_prompt, question=question, passages=passages, history=history
        )
        async for piece in llm.astream_reply(setup.model, prompt, usage):
            yield piece
        return
    # No model is asked: write_reply's own pieces (the extractive quotes are CPU work), written in one pool step.
    pieces = write_reply(question=question, passages=passages, history=history, setup=setup, usage=usage)
    for piece in await in_pool(list, pieces):
        yield piece


# ``history`` (both entry points): earlier (question, answer) turns kept by the caller rather than
# stored here (an OpenAI client sends its whole conversation with each call); None reads the
# conversation's own.
Turns = list[tuple[str, str]]


def stream_answer(*, message: Message, history: Turns | None = None) -> Iterator[str]:
    """Answer a stored question piece by piece; the outcome is recorded when the stream ends."""
    exchange = _exchange_for(message, history)
    try:
        yield from exchange
    finally:
        _record(message, exchange)


async def astream_answer(*, message: Message, history: Turns | None = None) -> AsyncIterator[str]:
    """``stream_answer`` for async callers (the ASGI server's streamed answers), with the same
    pieces and the same outcome recorded, however the stream ends.

    The database is read before the model is asked and written after it has finished, in the
    bounded pool (``ragchat.blocking``): while the model writes, the stream holds neither a
    thread nor a database connection.
    """
    exchange = await in_pool(_exchange_for, message, history)
    try:
        # Closed explicitly, so a reader who goes away ends the exchange's stream too (recorded as stopped).
        async with aclosing(exchange.astream()) as pieces:
            async for piece in pieces:
                yield piece
    finally:
        # Shielded: a client that goes away while the outcome waits for a free pool thread cancels
        # this task, and the wait with it, but not the saving.
        await asyncio.shield(in_pool(_record, message, exchange))


def _exchange_for(message: Message, history: Turns | None) -> Exchange:
    return Exchange(
        question=message.question,
        chat_type=message.chat_type,
        # The owner's current rights: a collection no longer shared is not searched again.
        reader=Reader(user_id=message.conversation.owner_id),
        collections=[collection.name for collection in message.conversation.collections.all()] or None,
        history=_history(message) if history is None else _given_history(history),
    )


def answer_message(*, message: Message, history: Turns | None = None) -> Message:
    """Answer a stored question to the end and record the result; failures are recorded, not raised."""
    for _ in stream_answer(message=message, history=history):
        pass
    return message


def _history(message: Message) -> list[tuple[str, str, str]]:
    earlier = message.conversation.messages.visible().filter(
        status=MessageStatus.ANSWERED, created_at__lt=message.created_at
    )
    recent = earlier.order_by("-created_at")[: llm.HISTORY_TURNS]
    return [(m.question, m.search_query, m.answer) for m in recent][::-1]


def _given_history(turns: Turns) -> list[tuple[str, str, str]]:
    # What those turns searched is not known: a follow-up is then joined to the earlier question.
    return [(question, "", answer) for question, answer in turns[-llm.HISTORY_TURNS :]]


# Waits between attempts to save an answer while the database is away (a restart takes seconds).
SAVE_RETRY_WAITS = (0.5, 1, 2, 4, 8)


def _record(message: Message, exchange: Exchange) -> None:
    """Save the outcome; while the database is away (a restart), retry on a fresh connection.

    The waits add up to about 15 s. If the database is still away then, the error is raised for
    the caller to report; the question stays stored, and shows as interrupted once it is stalled.
    """
    for wait in (*SAVE_RETRY_WAITS, None):
        try:
            _save_outcome(message, exchange)
            break
        except (OperationalError, InterfaceError) as exc:
            if wait is None:
                logger.error("Saving the answer failed; the database is still unavailable (%s)", exc)
                raise
            logger.warning("Saving the answer failed (%s); retrying in %s s", exc, wait)
            connection.close()
            time.sleep(wait)
    logger.info(
        "Answer recorded",
        extra={"message_id": message.pk, "status": message.status, "latency_ms": message.latency_ms},
    )


def _save_outcome(message: Message, exchange: Exchange) -> None:
    answer = exchange.answer
    message.status = MessageStatus.FAILED if exchange.error else MessageStatus.ANSWERED
    message.error = exchange.error
    message.error_detail = exchange.error_detail
    message.search_query = exchange.search_query
    message.prompt_version = exchange.setup.version if exchange.setup else None
    message.answer = answer.text
    message.model_name = answer.model_name
    message.prompt_tokens = answer.prompt_tokens
    message.completion_tokens = answer.completion_tokens
    message.latency_ms = exchange.latency_ms
    message.answered_at = timezone.now()
    passages = exchange.passages
    message.context_used = [{"n": number, **asdict(passage)} for number, passage in enumerate(passages, start=1)]
    # A question is answered once, or again after message_reset, which removes the old sources.
    with transaction.atomic():
        message.save()
        # A re-import may have replaced a chunk since it was retrieved; its text stays in context_used.
        alive = set(Chunk.objects.filter(pk__in=[p.chunk_id for p in passages]).values_list("pk", flat=True))
        MessageSource.objects.bulk_create(
            MessageSource(
                message=message, chunk_id=p.chunk_id if p.chunk_id in alive else None, rank=number, score=p.score
            )
            for number, p in enumerate(passages, start=1)
        )
