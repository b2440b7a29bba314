"""The OpenAI-compatible endpoint: POST /v1/chat/completions and GET /v1/models.

Callers authenticate with a personal API token (``Authorization: Bearer …``), never with the
session cookie, so these views need no CSRF token: a browser sends no bearer token on its own.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from api.tokens import bearer_user
from conversations import answering
from conversations.models import Message, MessageStatus
from documents.models import Collection
from interop import calls, completions, replies
from interop.calls import Refused

STATUS = {"invalid": 400, "not_found": 404, "rate_limited": 429}
ERROR_TYPE = {"invalid": "invalid_request_error", "not_found": "invalid_request_error", "rate_limited": "requests"}
ERROR_CODE = {"not_found": "model_not_found", "rate_limited": "rate_limit_exceeded"}
UNAUTHORIZED = (
    "This endpoint needs a personal API token: send it as `Authorization: Bearer <token>`. "
    "Create one on your account's API tokens page; a revoked or expired token is refused."
)
TOO_BIG = "The request body is too large for this site."


def token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Run the view as the token's user (``request.user``); 401 in OpenAI's shape otherwise."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = bearer_user(request)
        if user is None:
            body = completions.error_body(UNAUTHORIZED, kind="invalid_request_error", code="invalid_api_key")
            return JsonResponse(body, status=401, headers={"WWW-Authenticate": "Bearer"})
        # _cached_user too: the request log names the user it finds there (ragchat/requestlog.py).
        request.user = request._cached_user = user
        return view(request, *args, **kwargs)

    return csrf_exempt(never_cache(wrapper))


def refusal(refused: Refused) -> JsonResponse:
    kind = refused.kind
    body = completions.error_body(refused.reason, kind=ERROR_TYPE[kind], param=refused.param, code=ERROR_CODE.get(kind))
    headers = {"Retry-After": str(refused.retry_after)} if kind == "rate_limited" else None
    return JsonResponse(body, status=STATUS[kind], headers=headers)


@require_GET
@token_required
def models_list(request: HttpRequest) -> JsonResponse:
    """``ragchat`` (every collection the caller may read), then one model per readable collection."""
    collections = calls.readable_collections(request.user)
    first = min((int(c.created_at.timestamp()) for c in collections), default=0)
    data = [completions.model_entry(completions.MODEL, created=first, title="Every collection you can read")]
    data += [
        completions.model_entry(completions.MODEL_PREFIX + c.name, created=int(c.created_at.timestamp()), title=c.title)
        for c in collections
    ]
    return JsonResponse({"object": "list", "data": data})


@require_POST
@token_required
def chat_completions(request: HttpRequest) -> HttpResponse:
    """Answer the last user message from the documents, storing the call as a conversation."""
    try:
        call, collection, question = _checked_call(request)
    except RequestDataTooBig:
        return JsonResponse(completions.error_body(TOO_BIG, kind="invalid_request_error"), status=413)
    except Refused as refused:
        return refusal(refused)
    message = calls.call_submit(
        user=request.user, question=question, collection=collection, request_id=request.request_id
    )
    if call.stream:
        return _streamed(request, message, call)
    answering.answer_message(message=message, history=call.history)
    if message.status == MessageStatus.FAILED:
        return JsonResponse(replies.failure(message), status=502)
    return JsonResponse(replies.whole(message, model=call.model))


def _checked_call(request: HttpRequest) -> tuple[completions.CompletionRequest, Collection | None, str]:
    """The call, the collection its model names (None: all) and its question; the rate limit counted."""
    call = completions.parse_request(request.body)
    name = call.collection
    collection = calls.readable_collection(request.user, name, param="model") if name is not None else None
    question = calls.checked_question(call.question, param="messages")
    calls.count_question(request.user)
    return call, collection, question


def _streamed(request: HttpRequest, message: Message, call: completions.CompletionRequest) -> StreamingHttpResponse:
    """Server-sent events as the pages stream: under ASGI from the async pipeline (Django would hold
    a sync iterator's whole stream before sending it), under WSGI from the sync one."""
    stream = replies.Stream(message, model=call.model, history=call.history, include_usage=call.include_usage)
    if isinstance(request, ASGIRequest):
        connection.close()  # the question is stored; the answer takes connections only while it needs them
        events = stream.aevents()
    else:
        events = stream.events()
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"  # proxies must pass pieces on as they come
    return response
