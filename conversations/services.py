"""Writes: conversations, questions, feedback. Answering lives in ``answering``.

A question is saved before anything slow happens, so a failing, slow or abandoned answer
never loses it.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from conversations.models import Conversation, Feedback, Message, MessageSource, MessageStatus

logger = logging.getLogger(__name__)
TITLE_CHARS = 80
DEFAULT_TITLE = "New conversation"


def title_from_question(question: str) -> str:
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def conversation_create(*, owner, title: str = "", chat_type: str, collections=()) -> Conversation:
    """A new conversation; ``collections`` are what it searches (none: all its owner may read)."""
    conversation = Conversation(owner=owner, title=title or DEFAULT_TITLE, chat_type=chat_type)
    # The owner is the signed-in user (or one a command looked up): checking that it exists costs a query per question.
    conversation.full_clean(exclude=["owner"])
    # No savepoint: nothing here recovers from an error, which rolls back the caller's transaction too.
    with transaction.atomic(savepoint=False):
        conversation.save()
        if collections:  # a new conversation has none to compare with: no query unless some are chosen
            conversation.collections.add(*collections)
    return conversation


def conversation_update(*, conversation: Conversation, title: str, chat_type: str, collections=None) -> Conversation:
    """Rename, change the answer style, and (when given) choose what the conversation searches."""
    conversation.title = title
    conversation.chat_type = chat_type
    conversation.full_clean()
    with transaction.atomic():
        conversation.save(update_fields=["title", "chat_type", "updated_at"])
        if collections is not None:
            conversation.collections.set(collections)
    return conversation


def message_create(
    *, conversation: Conversation, question: str, chat_type: str, submission_id=None, request_id: str = ""
) -> Message:
    """Store a question, unanswered, and bring its conversation to the top of the list."""
    with transaction.atomic(savepoint=False):  # as in conversation_create
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
    *,
    owner,
    conversation: Conversation | None,
    question: str,
    chat_type: str,
    submission_id,
    request_id: str,
    collections=(),
) -> tuple[Message, bool]:
    """Store a question sent from the form, starting a conversation when none is given.

    Returns the message and whether it is new. A form sent twice (double click, browser retry)
    carries the same submission id and the same text: the second time the first message is
    returned, and no second conversation or message is made. A different question sent with a
    used id (a form the page did not renew, or one the Back button brought back) is a new
    question and is stored; so is one whose earlier copy a moderator hid. The unique constraint
    decides, so a first sending (nearly every one) costs no lookup, and two copies arriving at
    once are settled too.
    """
    try:
        return _question_store(owner, conversation, question, chat_type, submission_id, request_id, collections), True
    except IntegrityError:
        earlier = Message.objects.filter(submission_id=submission_id).select_related("conversation").first()
        if earlier is None:  # another constraint failed: not a second copy
            raise
        if _is_resubmission(earlier, owner=owner, question=question):
            return earlier, False
        # The id is taken by another question: store this one without it.
        return _question_store(owner, conversation, question, chat_type, None, request_id, collections), True


def _is_resubmission(earlier: Message, *, owner, question: str) -> bool:
    return earlier.conversation.owner_id == owner.pk and earlier.question == question and not earlier.hidden


def _question_store(owner, conversation, question, chat_type, submission_id, request_id, collections) -> Message:
    with transaction.atomic():
        if conversation is None:
            conversation = conversation_create(owner=owner, chat_type=chat_type, collections=collections)
        return message_create(
            conversation=conversation,
            question=question,
            chat_type=chat_type,
            submission_id=submission_id,
            request_id=request_id,
        )


def message_reset(*, message: Message, request_id: str = "") -> bool:
    """Clear an answer so the question can be answered again (retry or regenerate).

    One conditional update: only a finished answer, or one whose worker died (stalled), is reset,
    so two clicks at once answer once. The old answer's feedback and sources go with it. Returns
    whether this call reset it.
    """
    stalled_before = timezone.now() - timedelta(seconds=settings.ANSWER_STALL_SECONDS)
    finished = Q(status__in=[MessageStatus.ANSWERED, MessageStatus.FAILED])
    stalled = Q(status=MessageStatus.PENDING, answer_started_at__lt=stalled_before)
    with transaction.atomic():
        reset = Message.objects.filter(finished | stalled, pk=message.pk).update(
            status=MessageStatus.PENDING,
            answer="",
            error="",
            error_detail="",
            feedback=None,
            feedback_comment="",
            feedback_at=None,
            request_id=request_id or message.request_id,
            answer_started_at=timezone.now(),
        )
        if reset:
            MessageSource.objects.filter(message=message).delete()
    message.refresh_from_db()
    return bool(reset)


def message_set_feedback(*, message: Message, feedback: Feedback, comment: str = "") -> Message:
    message.feedback = feedback
    message.feedback_comment = comment
    message.feedback_at = timezone.now()
    message.save(update_fields=["feedback", "feedback_comment", "feedback_at"])
    return message


def conversation_delete(*, conversation: Conversation) -> None:
    conversation.delete()
