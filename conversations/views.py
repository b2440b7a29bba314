import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, closing

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from conversations import answering, services, sidebar
from conversations.forms import ConversationForm, ConversationSearchForm, FeedbackForm, QuestionForm, StartForm
from conversations.models import Conversation, Message
from documents.models import Chunk, Collection
from documents.originals import original_url
from ragchat.blocking import in_pool
from ragchat.ratelimit import RateLimit

CONVERSATIONS_PER_PAGE = 20
UNRECORDED = (
    "The database became unavailable while answering, so this answer could not be saved. "
    "Your question is saved: reload the page in a moment and retry it."
)


def _get_conversation_for_user(request: HttpRequest, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the user; 404 otherwise, so ids reveal nothing."""
    return get_object_or_404(Conversation.objects.for_user(request.user), pk=conversation_id)


def _get_message_for_user(request: HttpRequest, conversation_id: int, message_id: int) -> Message:
    conversation = _get_conversation_for_user(request, conversation_id)
    return get_object_or_404(conversation.messages.visible().select_related("conversation"), pk=message_id)


def _message_url(message: Message) -> str:
    return reverse("conversations:detail", args=[message.conversation_id]) + f"#message-{message.pk}"


def _is_last(message: Message) -> bool:
    """Whether this is the newest message its owner sees: only that answer can be regenerated."""
    return message.conversation.messages.visible().order_by("-created_at", "-id").first() == message


def _wants_stream(request: HttpRequest) -> bool:
    return "application/x-ndjson" in request.headers.get("Accept", "")


def _wants_fragment(request: HttpRequest) -> bool:
    return request.headers.get("X-Fragment") == "message"


@login_required
@never_cache
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, StartForm(user=request.user))


def _render_list(request: HttpRequest, form: QuestionForm, status: int = 200) -> HttpResponse:
    """The conversation list (searched with ?q=, paginated) beside the form for a first question."""
    search = ConversationSearchForm(request.GET)
    conversations = Conversation.objects.for_user(request.user).recent()
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    if query:
        matches = Q(title__icontains=query) | Q(messages__question__icontains=query, messages__hidden=False)
        conversations = conversations.filter(matches).distinct()
    page = Paginator(conversations, CONVERSATIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "search": search, "query": query, "form": form}
    return render(request, "conversations/list.html", context, status=status)


@login_required
@never_cache
@require_POST
def conversation_create(request: HttpRequest) -> HttpResponse:
    """Start a conversation with its first question."""
    form = StartForm(request.POST, user=request.user)
    if not form.is_valid() or _too_fast(request, form):
        return _render_list(request, form, status=_refusal_status(form))
    return _ask(request, None, form)


@login_required
@never_cache
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _get_conversation_for_user(request, conversation_id)
    return _render_detail(request, conversation, QuestionForm(initial={"chat_type": conversation.chat_type}))


def _render_detail(request: HttpRequest, conversation: Conversation, form: QuestionForm, status: int = 200):
    context = {
        "conversation": conversation,
        "chat_messages": conversation.messages.visible(),
        "form": form,
        "settings_form": ConversationForm(instance=conversation, user=request.user),
        "side": sidebar.side_list(request.user, current=conversation),
        "searched": sidebar.searched(conversation, request.user),
    }
    return render(request, "conversations/detail.html", context, status=status)


@login_required
@never_cache
@require_POST
def message_create(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _get_conversation_for_user(request, conversation_id)
    form = QuestionForm(request.POST)
    if not form.is_valid() or _too_fast(request, form):
        return _render_detail(request, conversation, form, status=_refusal_status(form))
    return _ask(request, conversation, form)


def _refusal_status(form: QuestionForm) -> int:
    """429 for a question refused by the rate limit, 400 for one that is invalid."""
    return 429 if form.has_error("question", "rate_limited") else 400


def _ask_limit() -> RateLimit:
    return RateLimit("ask", settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS)


def _too_fast(request: HttpRequest, form: QuestionForm) -> bool:
    """Whether the user has used up this window's questions; if so the form says until when."""
    refusal = _rate_refusal(request)
    if refusal:
        form.add_error("question", forms.ValidationError(refusal, code="rate_limited"))
    return bool(refusal)


def _rate_refusal(request: HttpRequest) -> str:
    """Count a question (asked or regenerated: each is a model call) and say why it is refused, or "".

    Counting and deciding are one statement, so parallel requests cannot all pass the limit.
    """
    limit = _ask_limit()
    decision = limit.consume(str(request.user.pk))
    if decision.allowed:
        return ""
    return (
        f"You have asked {limit.limit} questions in {limit.window} seconds, the most this site allows. "
        f"Please wait {decision.retry_after} seconds and ask again."
    )


def _ask(request: HttpRequest, conversation: Conversation | None, form: QuestionForm) -> HttpResponse:
    """Store the question (once, even if the form was sent twice) and answer it."""
    message, created = services.question_submit(
        owner=request.user, conversation=conversation, request_id=request.request_id, **form.cleaned_data
    )
    if not created:  # a resubmission: show the first copy, answered or still being answered
        return _already_asked(request, message)
    return _answer(request, message)


def _already_asked(request: HttpRequest, message: Message) -> HttpResponse:
    if not _wants_stream(request):
        return redirect(_message_url(message))
    events = [_start_event(message), _event("done", status=message.status, html=_message_html(request, message))]
    return StreamingHttpResponse(events, content_type="application/x-ndjson")


def _new_id() -> str:
    return uuid.uuid4().hex


def _message_html(request: HttpRequest, message: Message) -> str:
    context = {"message": message, "is_last": _is_last(message)}
    return render_to_string("conversations/_message.html", context, request=request)


def _answer(request: HttpRequest, message: Message) -> HttpResponse:
    """Stream the answer to scripts that ask for it; otherwise answer, then post/redirect/get."""
    if _wants_stream(request):
        # Under ASGI, Django would hold a sync iterator's whole stream before sending it; under WSGI
        # (the tests' live server), an async one. Each server gets the stream it sends as it comes.
        events = _aanswer_events if isinstance(request, ASGIRequest) else _answer_events
        if events is _aanswer_events:
            # The question is stored: this request's connection goes back now, not when the stream
            # ends; the answer takes connections of its own, only while it reads or writes.
            connection.close()
        response = StreamingHttpResponse(events(request, message), content_type="application/x-ndjson")
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # proxies must pass pieces on as they come
        return response
    answering.answer_message(message=message)
    return redirect(_message_url(message))


def _answer_events(request: HttpRequest, message: Message) -> Iterator[str]:
    """Newline-delimited JSON: start, the answer's pieces, then the finished message as HTML.

    The start event carries the submission id for the form's next question.
    """
    yield _start_event(message)
    try:
        # Closed explicitly: when the reader goes away, the partial answer is recorded now,
        # not whenever the interpreter gets round to finalising the generator.
        with closing(answering.stream_answer(message=message)) as pieces:
            for piece in pieces:
                yield _event("delta", text=piece)
        html = _message_html(request, message)
    except DatabaseError:
        yield _event("error", text=UNRECORDED)
        return
    yield _event("done", status=message.status, html=html)


async def _aanswer_events(request: HttpRequest, message: Message) -> AsyncIterator[str]:
    """``_answer_events`` for the ASGI server: the stream holds no thread and no database connection."""
    yield _start_event(message)
    try:
        async with aclosing(answering.astream_answer(message=message)) as pieces:
            async for piece in pieces:
                yield _event("delta", text=piece)
        html = await in_pool(_message_html, request, message)
    except DatabaseError:
        yield _event("error", text=UNRECORDED)
        return
    yield _event("done", status=message.status, html=html)


def _start_event(message: Message) -> str:
    return _event("start", message_id=message.pk, url=_message_url(message), next_submission_id=_new_id())


def _event(kind: str, **data) -> str:
    return json.dumps({"type": kind, **data}) + "\n"


@login_required
@require_POST
def message_regenerate(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """Answer the conversation's last question again (after a failure, or to get another answer)."""
    message = _get_message_for_user(request, conversation_id, message_id)
    if not _is_last(message):
        flash.error(request, "Only the last answer of a conversation can be regenerated.")
        return redirect(_message_url(message))
    refusal = _rate_refusal(request)
    if refusal:
        flash.error(request, refusal)
        form = QuestionForm(initial={"chat_type": message.conversation.chat_type})
        return _render_detail(request, message.conversation, form, status=429)
    if not services.message_reset(message=message, request_id=request.request_id):
        flash.info(request, "This question is still being answered.")
        return redirect(_message_url(message))
    return _answer(request, message)


@login_required
@require_POST
def message_feedback(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    message = _get_message_for_user(request, conversation_id, message_id)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        services.message_set_feedback(
            message=message, feedback=form.cleaned_data["feedback"], comment=form.cleaned_data["comment"]
        )
    if _wants_fragment(request):
        return HttpResponse(_message_html(request, message), status=200 if form.is_valid() else 400)
    if not form.is_valid():
        flash.error(request, "That feedback could not be saved.")
    return redirect(_message_url(message))


@login_required
@require_GET
def passage_detail(request: HttpRequest, conversation_id: int, message_id: int, number: int) -> HttpResponse:
    """Passage [number] of an answer, highlighted inside its document."""
    message = _get_message_for_user(request, conversation_id, message_id)
    cited = message.passage(number)
    if cited is None:
        raise Http404("This answer has no passage with that number.")
    # The answer's text stays, but a document is shown only while its collection is the user's to read.
    if not Collection.objects.readable_by(request.user).filter(name=cited.collection).exists():
        raise Http404("This passage's collection is no longer shared with you.")
    chunk = Chunk.objects.select_related("document").filter(pk=cited.chunk_id).first()
    document_chunks = chunk.document.chunks.only("pk", "position", "heading", "text") if chunk else []
    original = original_url(chunk.document, chunk.page) if chunk else ""
    context = {"conversation": message.conversation, "message": message, "number": number, "cited": cited,
               "chunk": chunk, "document_chunks": document_chunks, "original_url": original}  # fmt: skip
    return render(request, "conversations/passage.html", context)


@login_required
@require_POST
def conversation_update(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Rename the conversation, change its answer style or what it searches."""
    conversation = _get_conversation_for_user(request, conversation_id)
    form = ConversationForm(request.POST, user=request.user)
    if not form.is_valid():
        flash.error(
            request,
            "Please give the conversation a title of at most 200 characters, and choose only collections you can read.",
        )
        return redirect("conversations:detail", conversation.pk)
    services.conversation_update(conversation=conversation, **form.cleaned_data)
    flash.success(request, "Conversation updated.")
    return redirect("conversations:detail", conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_delete(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then delete the conversation and its messages (POST)."""
    conversation = _get_conversation_for_user(request, conversation_id)
    if request.method == "GET":
        return render(request, "conversations/delete.html", {"conversation": conversation})
    title = conversation.title
    services.conversation_delete(conversation=conversation)
    flash.success(request, f"Deleted “{title}”.")
    return redirect("conversations:list")
