"""Request ids and structured logs: every log line of a request carries the same id.

The id comes from the ``X-Request-ID`` header when a proxy in front sets one (so its logs and
ours line up), otherwise it is made here. It is returned in the response header, stored on each
message a request asks or answers, and added to every log record by ``RequestIdFilter``, so a
moderator can go from a message in the admin to its log lines.
"""

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

# Only ids that are safe to print and store; anything else from a client is replaced.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")
logger = logging.getLogger("ragchat.request")


def _id_for(request: HttpRequest) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _ACCEPTED_ID.fullmatch(given) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id and log one line when its response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Not reset afterwards on purpose: a streamed answer is produced after this returns, in
        # the same thread, and its log lines must still carry the id. The next request sets its own.
        request.request_id = _id_for(request)
        _request_id.set(request.request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        # Only a user the view already loaded: logging must not cost a query (or fail with the database).
        user = getattr(request, "_cached_user", None)
        logger.info(
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
                "streaming": response.streaming,
            },
        )
        return response


class RequestIdFilter(logging.Filter):
    """Add the current request id to every record (``-`` outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
