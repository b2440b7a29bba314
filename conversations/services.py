"""Writes: conversations and the question → answer exchange.

The question is saved before anything slow happens and no transaction is held open while
the model works, so a failing or slow model never loses a question or blocks the database.
"""

import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations import rag
from conversations.models import Conversation, Message, MessageSource, MessageStatus
from documents.models import Chunk
from documents.search import RetrievedChunk

logger = logging.getLogger(__name__)
TITLE_CHARS = 80
DEFAULT_TITLE = "New conversation"


def title_from_question(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def conversation_create(*, owner, title: str = "", chat_type: str, collection: str = "") -> Conversation:
    conversation = Conversation(owner=owner, title=title or DEFAULT_TITLE, chat_type=chat_type, collection=collection)
    conversation.full_clean()
    conversation.save()
    return conversation


def message_create(*, conversation: Conversation, question: str, chat_type: str) -> Message:
    """Store a question, unanswered, and bring its conversation to the top of the list."""
    with transaction.atomic():
        message = Message.objects.create(conversation=conversation, question=question, chat_type=chat_type)
        if conversation.title == DEFAULT_TITLE:
            conversation.title = title_from_question(question)
        conversation.chat_type = chat_type
        conversation.save(update_fields=["title", "chat_type", "updated_at"])
    return message


def _history(message: Message) -> list[tuple[str, str]]:
    earlier = message.conversation.messages.filter(status=MessageStatus.ANSWERED, created_at__lt=message.created_at)
    return [(m.question, m.answer) for m in earlier.order_by("-created_at")[: rag.HISTORY_TURNS]][::-1]


@dataclass
class Reply:
    """The outcome of answering a question, stored or not."""

    answer: rag.Answer
    sources: list[RetrievedChunk]
    error: str
    latency_ms: int


def compose_reply(*, question: str, chat_type: str, collection: str = "", history=()) -> Reply:
    """Retrieve and answer; an exception from the search or the model becomes ``error``."""
    started = time.perf_counter()
    sources: list[RetrievedChunk] = []
    answer, error = rag.Answer(text=""), ""
    try:
        sources = rag.relevant(rag.retrieve(question, collection=collection))
        answer = rag.generate_answer(chat_type=chat_type, question=question, sources=sources, history=list(history))
    except Exception as exc:  # the model or the search failed: keep the question, say why
        logger.exception("Answering failed")
        error = (f"{type(exc).__name__}: {exc}")[:2000]
        answer.model_name = settings.CHAT_MODEL
    return Reply(answer=answer, sources=sources, error=error, latency_ms=round((time.perf_counter() - started) * 1000))


def message_answer(*, message: Message) -> Message:
    """Answer a stored question and record the result on it; failures are recorded, not raised."""
    reply = compose_reply(
        question=message.question,
        chat_type=message.chat_type,
        collection=message.conversation.collection,
        history=_history(message),
    )
    message.status = MessageStatus.FAILED if reply.error else MessageStatus.ANSWERED
    message.error = reply.error
    message.answer = reply.answer.text
    message.model_name = reply.answer.model_name
    message.prompt_tokens = reply.answer.prompt_tokens
    message.completion_tokens = reply.answer.completion_tokens
    message.latency_ms = reply.latency_ms
    message.answered_at = timezone.now()
    _store_sources(message, reply.sources)
    return message


def _store_sources(message: Message, sources: list[RetrievedChunk]) -> None:
    message.context_used = [{"n": number, **asdict(source)} for number, source in enumerate(sources, start=1)]
    with transaction.atomic():
        message.save()
        message.sources.all().delete()
        # A re-import may have replaced a chunk since it was retrieved; its text stays in context_used.
        alive = set(Chunk.objects.filter(pk__in=[s.chunk_id for s in sources]).values_list("pk", flat=True))
        MessageSource.objects.bulk_create(
            MessageSource(
                message=message, chunk_id=s.chunk_id if s.chunk_id in alive else None, rank=number, score=s.score
            )
            for number, s in enumerate(sources, start=1)
        )


def answer_question(*, conversation: Conversation, question: str, chat_type: str) -> Message:
    """Store the question, then answer it."""
    message = message_create(conversation=conversation, question=question, chat_type=chat_type)
    return message_answer(message=message)
