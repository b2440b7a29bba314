from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from conversations import services
from conversations.forms import QuestionForm
from conversations.models import Conversation, Message
from documents.models import Chunk


def _get_conversation_for_user(request: HttpRequest, conversation_id: int) -> Conversation:
    """The conversation if it belongs to the user; 404 otherwise, so ids reveal nothing."""
    return get_object_or_404(Conversation.objects.for_user(request.user), pk=conversation_id)


def _message_url(message: Message) -> str:
    return reverse("conversations:detail", args=[message.conversation_id]) + f"#message-{message.pk}"


@login_required
@require_GET
def conversation_list(request: HttpRequest) -> HttpResponse:
    conversations = Conversation.objects.for_user(request.user).recent()[:100]
    return render(request, "conversations/list.html", {"conversations": conversations, "form": QuestionForm()})


@login_required
@require_POST
def conversation_create(request: HttpRequest) -> HttpResponse:
    """Start a conversation with its first question."""
    form = QuestionForm(request.POST)
    if not form.is_valid():
        conversations = Conversation.objects.for_user(request.user).recent()[:100]
        return render(request, "conversations/list.html", {"conversations": conversations, "form": form}, status=400)
    conversation = services.conversation_create(owner=request.user, chat_type=form.cleaned_data["chat_type"])
    message = services.answer_question(conversation=conversation, **form.cleaned_data)
    return redirect(_message_url(message))


@login_required
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _get_conversation_for_user(request, conversation_id)
    form = QuestionForm(initial={"chat_type": conversation.chat_type})
    return _render_detail(request, conversation, form)


def _render_detail(request: HttpRequest, conversation: Conversation, form: QuestionForm, status: int = 200):
    context = {"conversation": conversation, "chat_messages": conversation.messages.all(), "form": form}
    return render(request, "conversations/detail.html", context, status=status)


@login_required
@require_POST
def message_create(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _get_conversation_for_user(request, conversation_id)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, conversation, form, status=400)
    message = services.answer_question(conversation=conversation, **form.cleaned_data)
    return redirect(_message_url(message))


@login_required
@require_GET
def source_detail(request: HttpRequest, conversation_id: int, message_id: int, number: int) -> HttpResponse:
    """Passage [number] of an answer, highlighted inside its document."""
    conversation = _get_conversation_for_user(request, conversation_id)
    message = get_object_or_404(conversation.messages, pk=message_id)
    cited = message.source(number)
    if cited is None:
        raise Http404("This answer has no passage with that number.")
    chunk = Chunk.objects.select_related("document").filter(pk=cited["chunk_id"]).first()
    neighbours = chunk.document.chunks.only("pk", "position", "heading", "text") if chunk else []
    context = {
        "conversation": conversation,
        "message": message,
        "number": number,
        "cited": cited,
        "chunk": chunk,
        "document_chunks": neighbours,
    }
    return render(request, "conversations/source.html", context)
