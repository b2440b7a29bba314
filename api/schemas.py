"""What the API sends and takes: pydantic schemas, turned into the OpenAPI document by django-ninja."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator

from conversations.models import ChatType

ChatTypeName = Literal[tuple(ChatType.values)]  # type: ignore[valid-type]


def _storable(value: str) -> str:
    """Refuse what PostgreSQL cannot store in text (NUL) or UTF-8 cannot encode (lone surrogates: JSON's \\ud800)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogate characters)") from None
    return value


# Every string the API takes: what the database cannot store is a 422, never a server error.
Text = Annotated[str, AfterValidator(_storable)]


class Source(Schema):
    """A numbered passage the answer was given, cited in its text as [n]."""

    n: int
    collection: str
    path: str = Field(description="The document's path within its collection.")
    page: int | None = Field(description="1-based PDF page or slide the passage starts on; null without pages.")
    source_label: str = Field(description='How people name it: "report.pdf, p. 2".')
    title: str
    heading: str
    text: str = Field(description="The passage as the answer was given it.")
    score: float
    similarity: float


class MessageOut(Schema):
    id: int
    conversation_id: int
    question: str
    chat_type: str
    status: Literal["pending", "answered", "failed"]
    answer: str
    error: str = Field(description="Why the answer failed, when it did.")
    search_query: str = Field(description="The question as it was searched for (follow-ups stand alone).")
    model: str = Field(description="The chat model that wrote it; empty for extractive answers.")
    latency_ms: int | None
    created_at: datetime
    answered_at: datetime | None
    feedback: Literal[-1, 1] | None
    feedback_comment: str
    sources: list[Source]


class ConversationOut(Schema):
    id: int
    title: str
    chat_type: str
    collections: list[str] = Field(description="What its questions search; empty: every collection you can read.")
    created_at: datetime
    updated_at: datetime


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


class ConversationPage(Schema):
    items: list[ConversationOut]
    count: int = Field(description="Conversations in all pages.")
    page: int
    pages: int


class ConversationIn(Schema):
    title: Text = Field("", max_length=200, description="Empty: named after its first question.")
    chat_type: ChatTypeName = ChatType.ANSWER
    collections: list[Text] = Field([], max_length=100, description="Collection names; empty: all you can read.")


class ConversationPatch(Schema):
    title: Text | None = Field(None, min_length=1, max_length=200)
    chat_type: ChatTypeName | None = None
    collections: list[Text] | None = Field(None, max_length=100)


class QuestionIn(Schema):
    question: Text = Field(description="At most MAX_QUESTION_CHARS characters (4000 unless the site says otherwise).")
    chat_type: ChatTypeName = ChatType.ANSWER
    submission_id: UUID | None = Field(
        None, description="Send the same id again when retrying: the question is then stored and answered once."
    )


class NewQuestionIn(QuestionIn):
    collections: list[Text] = Field([], max_length=100, description="What the new conversation searches.")


class FeedbackIn(Schema):
    feedback: Literal[-1, 1] = Field(description="1: thumbs up, -1: thumbs down.")
    comment: Text = Field("", max_length=2000)


class CollectionOut(Schema):
    name: str
    title: str
    description: str
    personal: bool = Field(description='Your own "My documents".')
    role: Literal["reader", "editor", "manager"] | None
    document_count: int


class DocumentOut(Schema):
    id: int
    path: str
    title: str
    size_bytes: int | None
    passage_count: int
    created_at: datetime
    updated_at: datetime


class DocumentPage(Schema):
    items: list[DocumentOut]
    count: int
    page: int
    pages: int


class RefusedFile(Schema):
    name: str
    reason: str


class JobOut(Schema):
    id: int
    collection: str
    kind: str
    status: str
    status_label: str
    files_done: int
    files_total: int
    passages_written: int
    elapsed_seconds: float
    estimated_seconds_left: float | None
    failures: list[RefusedFile]
    queued_at: datetime
    finished_at: datetime | None


class UploadOut(Schema):
    job: JobOut
    refused: list[RefusedFile] = Field(description="Files not imported, each with its reason.")
