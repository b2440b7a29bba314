"""Why an answer failed, in words a user can act on.

The message's ``error`` is shown to its owner under the question, so it says what happened and
what to do, and nothing more: exception texts can name hosts, addresses and database details.
The exception's type and text go to ``error_detail``, shown to staff in the admin; the full
trace is in the logs under the message's request id.
"""

from dataclasses import dataclass

from django.db import DatabaseError

from conversations.model_endpoints import EndpointRefused

DETAIL_CHARS = 300


def _status_code(exc: Exception) -> int | None:
    """The HTTP status of an error from a model provider's client (OpenAI, Anthropic, ... and httpx)."""
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else None


def _reason(exc: Exception, timeout: float | None) -> str:
    name = type(exc).__name__
    status = _status_code(exc)
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        limit = f" within {timeout:g} seconds" if timeout else " in time"
        return f"the language model did not answer{limit}. Please try again"
    if isinstance(exc, EndpointRefused):
        return "this answer style's model configuration is not allowed on this site; an administrator must fix it"
    if isinstance(exc, DatabaseError):
        return "the database could not be reached while answering. Please try again in a moment"
    if status == 429:
        return "the language model service is busy (rate limited). Please try again in a minute"
    if status in (401, 403):
        return "the language model service refused this site's credentials; an administrator must fix them"
    if status is not None and status >= 500:
        return f"the language model service failed (HTTP {status}). Please try again"
    if isinstance(exc, ConnectionError) or "Connect" in name:
        return "the language model service could not be reached. Please try again later"
    return "an unexpected error stopped it. Please try again; if it keeps failing, tell an administrator"


@dataclass(frozen=True)
class Failure:
    reason: str  # for the user
    detail: str  # for staff


def describe_failure(exc: Exception, *, timeout: float | None = None) -> Failure:
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1] + "…"
    reason = _reason(exc, timeout)
    return Failure(reason=f"{reason[0].upper()}{reason[1:]}.", detail=detail)
