"""/api/conversations: list, start, read, rename, delete; a message and its feedback."""

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status

from api.outputs import conversation_out, message_out
from api.problems import ApiRefusal, documented
from api.schemas import (
    ConversationDetail,
    ConversationIn,
    ConversationOut,
    ConversationPage,
    ConversationPatch,
    FeedbackIn,
    MessageOut,
    Text,
)
from conversations import services
from conversations.models import Conversation, Feedback, Message
from documents.models import Collection

router = Router(tags=["conversations"])


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=100)
    q: Text = Field("", max_length=200, description="Only conversations whose title or questions contain this.")


def conversation_for_user(request: HttpRequest, conversation_id: int) -> Conversation:
    """The caller's conversation; 404 for anyone else's, so ids reveal nothing."""
    return get_object_or_404(Conversation.objects.for_user(request.user), pk=conversation_id)


def message_for_user(request: HttpRequest, conversation_id: int, message_id: int) -> Message:
    conversation = conversation_for_user(request, conversation_id)
    return get_object_or_404(conversation.messages.visible().select_related("conversation"), pk=message_id)


def readable_collections(request: HttpRequest, names: list[str]) -> list[Collection]:
    """The collections of these names the caller may read; a 422 naming any other."""
    found = list(Collection.objects.readable_by(request.user).filter(name__in=names))
    missing = sorted(set(names) - {collection.name for collection in found})
    if missing:
        detail = f"No collection you can read is called {', '.join(missing)}. GET /api/collections lists them."
        raise ApiRefusal(422, detail)
    return found


@router.get("/conversations", response={200: ConversationPage, **documented(401, 422)})
def conversation_list(request: HttpRequest, query: Query[PageQuery]):
    """Your conversations, most recently active first, a page at a time (past the last page: no items)."""
    conversations = Conversation.objects.for_user(request.user).recent().prefetch_related("collections")
    if query.q:
        matches = Q(title__icontains=query.q) | Q(messages__question__icontains=query.q, messages__hidden=False)
        conversations = conversations.filter(matches).distinct()
    paginator = Paginator(conversations, query.page_size)
    items = [conversation_out(c) for c in paginator.page(query.page)] if query.page <= paginator.num_pages else []
    return {"items": items, "count": paginator.count, "page": query.page, "pages": paginator.num_pages}


@router.post("/conversations", response={201: ConversationOut, **documented(401, 422)})
def conversation_create(request: HttpRequest, body: ConversationIn):
    """Start an empty conversation; ask in it with POST /api/conversations/{id}/questions."""
    collections = readable_collections(request, body.collections)
    conversation = services.conversation_create(
        owner=request.user, title=body.title.strip(), chat_type=body.chat_type, collections=collections
    )
    return Status(201, conversation_out(conversation))


@router.get("/conversations/{int:conversation_id}", response={200: ConversationDetail, **documented(401, 404)})
def conversation_detail(request: HttpRequest, conversation_id: int):
    """A conversation with its messages, oldest first, each with its numbered sources."""
    conversation = conversation_for_user(request, conversation_id)
    messages = [message_out(message) for message in conversation.messages.visible()]
    return {**conversation_out(conversation), "messages": messages}


@router.patch("/conversations/{int:conversation_id}", response={200: ConversationOut, **documented(401, 404, 422)})
def conversation_update(request: HttpRequest, conversation_id: int, body: ConversationPatch):
    """Rename it, change its answer style or what it searches; fields left out stay as they are."""
    conversation = conversation_for_user(request, conversation_id)
    title = body.title.strip() if body.title is not None else conversation.title
    if not title:
        raise ApiRefusal(422, "A conversation's title cannot be blank: send at least one visible character.")
    collections = readable_collections(request, body.collections) if body.collections is not None else None
    services.conversation_update(
        conversation=conversation,
        title=title,
        chat_type=body.chat_type or conversation.chat_type,
        collections=collections,
    )
    return conversation_out(conversation)


@router.delete("/conversations/{int:conversation_id}", response={204: None, **documented(401, 404)})
def conversation_delete(request: HttpRequest, conversation_id: int):
    """Delete the conversation and all its messages, for good."""
    services.conversation_delete(conversation=conversation_for_user(request, conversation_id))
    return Status(204, None)


MESSAGE_PATH = "/conversations/{int:conversation_id}/messages/{int:message_id}"


@router.get(MESSAGE_PATH, response={200: MessageOut, **documented(401, 404)})
def message_detail(request: HttpRequest, conversation_id: int, message_id: int):
    """One question and its answer, with its sources (poll it while its status is pending)."""
    return message_out(message_for_user(request, conversation_id, message_id))


@router.post(MESSAGE_PATH + "/feedback", response={200: MessageOut, **documented(401, 404, 422)})
def message_feedback(request: HttpRequest, conversation_id: int, message_id: int, body: FeedbackIn):
    """Rate an answer: 1 (thumbs up) or -1 (thumbs down), with an optional comment; sending again replaces it."""
    message = message_for_user(request, conversation_id, message_id)
    services.message_set_feedback(message=message, feedback=Feedback(body.feedback), comment=body.comment)
    return message_out(message)
