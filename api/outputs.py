"""Rows as the API shows them (schemas.py): the same fields the pages show, nothing of staff's."""

from conversations.models import Conversation, Message
from documents.search import source_label


def message_out(message: Message) -> dict:
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "question": message.question,
        "chat_type": message.chat_type,
        "status": message.status,
        "answer": message.answer,
        "error": message.error,  # error_detail is for staff, never shown to the owner
        "search_query": message.search_query,
        "model": message.model_name,
        "latency_ms": message.latency_ms,
        "created_at": message.created_at,
        "answered_at": message.answered_at,
        "feedback": message.feedback,
        "feedback_comment": message.feedback_comment,
        "sources": [
            {**passage.summary(), "source_label": source_label(passage.path, passage.page), "text": passage.text}
            for passage in message.passages()
        ],
    }


def conversation_out(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "chat_type": conversation.chat_type,
        "collections": [collection.name for collection in conversation.collections.all()],
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }
