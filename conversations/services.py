"""Writes: conversations, questions, feedback. Answering lives in ``answering``.

A question is saved before anything slow happens, so a failing, slow or abandoned answer
never loses it.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Conversation, Feedback, Message, MessageStatus

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
