"""Writes: conversations and the question → answer exchange.

The question is saved before anything slow happens and no transaction is held open while
the model works, so a failing, slow or abandoned answer never loses a question or blocks
the database. Whatever happens to the answer (finished, failed, stopped by the user, the
connection dropped), the outcome is recorded on the message when its stream ends.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from conversations import rag
from conversations.failures import describe_failure
from conversations.models import (
    ChatModelConfig,
    Conversation,
    Feedback,
    Message,
    MessageSource,
    MessageStatus,
    PromptVersion,
)
from conversations.prompts import active_prompt
from documents.models import Chunk
from documents.search import RetrievedChunk

logger = logging.getLogger(__name__)
TITLE_CHARS = 80
DEFAULT_TITLE = "New conversation"
STOPPED = "The answer was stopped before it was complete."


def title_from_question(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def conversation_create(*, owner, title: str = "", chat_type: str, collection: str = "") -> Conversation:
    conversation = Conversation(owner=owner, title=title or DEFAULT_TITLE, chat_type=chat_type, collection=collection)
    conversation.full_clean()
    conversation.save()
    return conversation


def conversation_update(*, conversation: Conversation, title: str, chat_type: str) -> Conversation:
    conversation.title = title
    conversation.chat_type = chat_type
    conversation.full_clean()
    conversation.save(update_fields=["title", "chat_type", "updated_at"])
    return conversation


def message_create(
    *, conversation: Conversation, question: str, chat_type: str, submission_id=None, request_id: str = ""
) -> Message:
    """Store a question, unanswered, and bring its conversation to the top of the list."""
    with transaction.atomic():
        message = Message.objects.create(
            conversation=conversation,
            question=question,
            chat_type=chat_type,
            submission_id=submission_id,
            request_id=request_id,
        )
        if conversation.title == DEFAULT_TITLE:
            conversation.title = title_from_question(question)
        conversation.chat_type = chat_type
        conversation.save(update_fields=["title", "chat_type", "updated_at"])
    logger.info("Question stored", extra={"message_id": message.pk, "conversation_id": conversation.pk})
    return message


def question_submit(
    *, owner, conversation: Conversation | None, question: str, chat_type: str, submission_id, request_id: str
) -> tuple[Message, bool]:
    """Store a question sent from the form, starting a conversation when none is given.

    Returns the message and whether it is new. A form sent twice (double click, browser retry)
    carries the same submission id: the second time the first message is returned, and no second
    conversation or message is made. The unique constraint settles two copies arriving at once.
    """
    if submission_id is not None:
        earlier = Message.objects.filter(submission_id=submission_id).select_related("conversation").first()
        if earlier is not None and earlier.conversation.owner_id == owner.pk:
            return earlier, False
        if earlier is not None:  # someone else's id (copied, or a forged form): not a resubmission
            submission_id = None
    try:
        with transaction.atomic():
            if conversation is None:
                conversation = conversation_create(owner=owner, chat_type=chat_type)
            message = message_create(
                conversation=conversation,
                question=question,
                chat_type=chat_type,
                submission_id=submission_id,
                request_id=request_id,
            )
    except IntegrityError:
        earlier = Message.objects.submitted(owner=owner, submission_id=submission_id).first()
        if earlier is None:  # another user's id, or another constraint: not a resubmission
            raise
        return earlier, False
    return message, True


class Exchange:
    """One question answered: iterate for the answer's text as it is produced.

    Afterwards ``search_query``, ``sources``, ``answer``, ``error`` and ``latency_ms`` hold
    the outcome. Errors from the search or the model end the iteration and are kept in
    ``error``; they are not raised.
    """

    def __init__(self, *, question: str, chat_type: str, collection: str = "", history=()):
        self.question, self.chat_type, self.collection = question, chat_type, collection
        self.history: list[tuple[str, str, str]] = list(history)
        self.prompt: PromptVersion | None = None
        self.choice: rag.ModelChoice | None = None
        self.search_query = question
        self.sources: list[RetrievedChunk] = []
        self.stream: rag.AnswerStream | None = None
        self.error = ""
        self.latency_ms: int | None = None

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        try:
            self.prompt = active_prompt(self.chat_type)
            self.choice = _model_choice(self.prompt.model_config)
            self.search_query = rag.standalone_query(self.question, self.history, self.choice)
            self.sources = rag.relevant(rag.retrieve(self.search_query, collection=self.collection or None))
            self.stream = rag.AnswerStream(
                question=self.question,
                sources=self.sources,
                history=[(question, answer) for question, _, answer in self.history],
                system_prompt=self.prompt.system_prompt,
                choice=self.choice,
            )
            yield from self.stream
        except GeneratorExit:  # the reader went away: the user stopped it or the connection dropped
            self.error = STOPPED
            raise
        except Exception as exc:  # the model or the search failed: keep the question, say why
            logger.exception("Answering failed")
            self.error = describe_failure(exc, timeout=self.choice.timeout if self.choice else None)
        finally:
            self.latency_ms = round((time.perf_counter() - started) * 1000)

    @property
    def answer(self) -> rag.Answer:
        if self.stream is None:
            return rag.Answer(text="", model_name=self.choice.model if self.choice else "")
        return self.stream.answer


def _model_choice(config: ChatModelConfig | None) -> rag.ModelChoice | None:
    """The staff-chosen model of a prompt version, else the CHAT_MODEL setting."""
    if config is None:
        return rag.ModelChoice.from_settings()
    return rag.ModelChoice(
        model=config.model,
        temperature=config.temperature,
        timeout=config.timeout_seconds,
        max_tokens=config.max_tokens,
        base_url=config.base_url,
        api_key=config.api_key(),
    )


def compose_reply(*, question: str, chat_type: str, collection: str = "") -> Exchange:
    """Answer a question without storing it (the ``ask`` command)."""
    exchange = Exchange(question=question, chat_type=chat_type, collection=collection)
    for _ in exchange:
        pass
    return exchange


def _history(message: Message) -> list[tuple[str, str, str]]:
    earlier = message.conversation.messages.visible().filter(
        status=MessageStatus.ANSWERED, created_at__lt=message.created_at
    )
    recent = earlier.order_by("-created_at")[: rag.HISTORY_TURNS]
    return [(m.question, m.search_query, m.answer) for m in recent][::-1]


def message_answer_stream(*, message: Message) -> Iterator[str]:
    """Answer a stored question piece by piece; the outcome is recorded when the stream ends."""
    exchange = Exchange(
        question=message.question,
        chat_type=message.chat_type,
        collection=message.conversation.collection,
        history=_history(message),
    )
    try:
        yield from exchange
    finally:
        _record(message, exchange)


def message_answer(*, message: Message) -> Message:
    """Answer a stored question and record the result on it; failures are recorded, not raised."""
    for _ in message_answer_stream(message=message):
        pass
    return message


def _record(message: Message, exchange: Exchange) -> None:
    """Save the outcome; if the database dropped the connection meanwhile (a restart), reconnect once."""
    try:
        _save_outcome(message, exchange)
    except (OperationalError, InterfaceError) as exc:
        logger.warning("Saving the answer failed (%s); reconnecting once", exc)
        connection.close()
        _save_outcome(message, exchange)
    logger.info(
        "Answer recorded",
        extra={"message_id": message.pk, "status": message.status, "latency_ms": message.latency_ms},
    )


def _save_outcome(message: Message, exchange: Exchange) -> None:
    answer = exchange.answer
    message.status = MessageStatus.FAILED if exchange.error else MessageStatus.ANSWERED
    message.error = exchange.error
    message.search_query = exchange.search_query
    message.prompt_version = exchange.prompt
    message.answer = answer.text
    message.model_name = answer.model_name
    message.prompt_tokens = answer.prompt_tokens
    message.completion_tokens = answer.completion_tokens
    message.latency_ms = exchange.latency_ms
    message.answered_at = timezone.now()
    sources = exchange.sources
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


def message_reset(*, message: Message, request_id: str = "") -> Message:
    """Clear an answer so the question can be answered again (retry or regenerate)."""
    message.status = MessageStatus.PENDING
    message.answer = message.error = ""
    message.request_id = request_id or message.request_id
    message.answer_started_at = timezone.now()
    message.save(update_fields=["status", "answer", "error", "request_id", "answer_started_at"])
    return message


def message_set_feedback(*, message: Message, feedback: Feedback, comment: str = "") -> Message:
    message.feedback = feedback
    message.feedback_comment = comment
    message.feedback_at = timezone.now()
    message.save(update_fields=["feedback", "feedback_comment", "feedback_at"])
    return message


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()
