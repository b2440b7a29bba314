"""Asking: POST /api/questions (a new conversation) and /api/conversations/{id}/questions.

The pages' path exactly: QuestionForm's limits, the same question budget, ``services.question_submit``
(stored once per submission id, before anything slow) and the one answering pipeline. The answer
comes whole as JSON, or as server-sent events with ``Accept: text/event-stream``.
"""

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, closing

from django.core.handlers.asgi import ASGIRequest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Status

from api.conversations import conversation_for_user, readable_collections
from api.limits import ask_allowed
from api.outputs import message_out
from api.problems import ApiRefusal, documented
from api.schemas import MessageOut, NewQuestionIn, QuestionIn
from conversations import answering, services
from conversations.forms import QuestionForm
from conversations.models import Conversation, Message

router = Router(tags=["questions"])
EVENT_STREAM = "text/event-stream"
RESPONSES = {200: MessageOut, 201: MessageOut, **documented(401, 404, 422, 429)}
# The events, for the OpenAPI document: JSON stays the default, the stream is chosen by Accept.
STREAM_DOC = {
    "responses": {
        "201": {
            "description": "The answer; with `Accept: text/event-stream`, server-sent events instead: `start` "
            "(message_id, conversation_id), `delta` (text) as the answer is written, then `done` (the message "
            "as JSON) or `error` (a problem).",
            "content": {EVENT_STREAM: {"schema": {"type": "string"}}},
        }
    }
}
UNRECORDED = (
    "The database became unavailable while answering, so this answer could not be saved. Your question is "
    "saved: read the message again in a moment, or ask again."
)


@router.post("/questions", response=RESPONSES, openapi_extra=STREAM_DOC)
def question_ask_new(request: HttpRequest, body: NewQuestionIn):
    """Ask in a new conversation (searching ``collections``, or all you can read): 201 with the answer.

    Sending the same ``submission_id`` again returns the first message (200) instead of asking twice."""
    collections = readable_collections(request, body.collections)
    return _ask(request, None, body, collections)


@router.post("/conversations/{int:conversation_id}/questions", response=RESPONSES, openapi_extra=STREAM_DOC)
def question_ask(request: HttpRequest, conversation_id: int, body: QuestionIn):
    """Ask in one of your conversations (it remembers the earlier questions): 201 with the answer."""
    return _ask(request, conversation_for_user(request, conversation_id), body, ())


def _ask(request: HttpRequest, conversation: Conversation | None, body: QuestionIn, collections):
    form = QuestionForm({"question": body.question, "chat_type": body.chat_type})
    if not form.is_valid():
        errors = [
            {"loc": ["body", field], "msg": str(message)}
            for field, messages in form.errors.items()
            for message in messages
        ]
        raise ApiRefusal(422, " ".join(error["msg"] for error in errors), errors=errors)
    ask_allowed(request.user)
    message, created = services.question_submit(
        owner=request.user,
        conversation=conversation,
        question=form.cleaned_data["question"],
        chat_type=form.cleaned_data["chat_type"],
        submission_id=body.submission_id,
        request_id=request.request_id,
        collections=collections,
    )
    if EVENT_STREAM in request.headers.get("Accept", ""):
        return _event_stream(request, message, created)
    if created:  # a resubmission is not answered twice: its first copy is, or was
        answering.answer_message(message=message)
    return Status(201 if created else 200, message_out(message))


def _event_stream(request: HttpRequest, message: Message, created: bool) -> StreamingHttpResponse:
    # Under ASGI Django would hold a sync iterator's whole stream before sending it (and under WSGI an
    # async one): each server gets the stream it sends as it comes, as the chat page's does.
    if isinstance(request, ASGIRequest):
        connection.close()  # the question is stored; the answer takes connections only while it uses them
        events = _aevents(message, created)
    else:
        events = _events(message, created)
    response = StreamingHttpResponse(events, content_type=EVENT_STREAM, status=201 if created else 200)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # proxies must pass events on as they come
    return response


def _events(message: Message, created: bool) -> Iterator[str]:
    yield _event("start", {"message_id": message.pk, "conversation_id": message.conversation_id})
    try:
        if created:
            # Closed explicitly: a caller that goes away gets its partial answer recorded now.
            with closing(answering.stream_answer(message=message)) as pieces:
                for piece in pieces:
                    yield _event("delta", {"text": piece})
        done = message_out(message)
    except DatabaseError:
        yield _event(
            "error", {"type": "about:blank", "title": "Service unavailable", "status": 503, "detail": UNRECORDED}
        )
        return
    yield _event("done", done)


async def _aevents(message: Message, created: bool) -> AsyncIterator[str]:
    """``_events`` for the ASGI server, from ``answering.astream_answer``: it holds no thread while the model writes."""
    yield _event("start", {"message_id": message.pk, "conversation_id": message.conversation_id})
    try:
        if created:
            async with aclosing(answering.astream_answer(message=message)) as pieces:
                async for piece in pieces:
                    yield _event("delta", {"text": piece})
        done = message_out(message)  # from the message in memory: no query
    except DatabaseError:
        yield _event("error", _unrecorded())
        return
    yield _event("done", done)


def _unrecorded() -> dict:
    return {"type": "about:blank", "title": "Service unavailable", "status": 503, "detail": UNRECORDED}


def _event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, cls=DjangoJSONEncoder)}\n\n"
