"""Errors as problem details (RFC 9457): ``application/problem+json`` with type, title, status and a
detail sentence the caller can act on. Every error the API answers goes through ``problem``."""

import json
import logging

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

logger = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Content too large",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
    503: "Service unavailable",
}
# As the pages' 503 (ragchat.middleware): a database restart takes seconds.
RETRY_AFTER_SECONDS = 10


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict] | None = None


class ApiRefusal(Exception):
    """Raised by an endpoint to answer with a problem: ``status``, the ``detail`` sentence, headers."""

    def __init__(self, status: int, detail: str, *, headers: dict[str, str] | None = None, errors=None):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.errors = status, detail, headers or {}, errors


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None, errors=None) -> HttpResponse:
    body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


NOT_AUTHENTICATED = (
    "Send a valid API token as `Authorization: Bearer <token>`. The token is missing, unknown, revoked "
    "or expired: make a new one on your account's API tokens page."
)


UNREADABLE = "send it as the API's documentation shows: JSON, or multipart/form-data with files for uploads."


def _validation_errors(errors: list[dict]) -> list[dict]:
    """Where each error is (``loc``) and what is wrong (``msg``); not the value sent, which may be large."""
    return [{"loc": list(error.get("loc", ())), "msg": error.get("msg", "")} for error in errors]


def install(api: NinjaAPI) -> None:
    """Answer ninja's own errors, ours and unexpected ones as problems."""

    @api.exception_handler(ApiRefusal)
    def refusal(request: HttpRequest, exc: ApiRefusal) -> HttpResponse:
        return problem(exc.status, exc.detail, headers=exc.headers, errors=exc.errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": 'Bearer realm="ragchat"'})

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        detail = str(exc) if str(exc) else "There is nothing of yours with that id. Check the id in the URL."
        return problem(404, detail)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = _validation_errors(exc.errors)
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem(422, f"The request does not match the API's schema ({where}).", errors=errors)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        detail = f"{exc}: {UNREADABLE}" if exc.status_code == 400 else str(exc)
        return problem(exc.status_code, detail)

    @api.exception_handler(MultiPartParserError)
    @api.exception_handler(SuspiciousOperation)
    def unreadable(request: HttpRequest, exc: Exception) -> HttpResponse:
        if isinstance(exc, RequestDataTooBig):
            return problem(413, "The request body is larger than this site accepts. Send less at once.")
        return problem(400, f"The request body could not be read: {UNREADABLE}")

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_away(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.error("Database unavailable: %s", exc)
        connection.close()  # the next request opens a fresh connection
        detail = "The database is unavailable for a moment (a restart or maintenance). Try again in a few seconds."
        return problem(503, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API request failed")
        detail = "Something went wrong on the server. Try again; if it keeps failing, tell the site's staff."
        return problem(500, f"{detail} Request id: {getattr(request, 'request_id', '-')}.")


def documented(*statuses: int) -> dict:
    """Response schemas for these error statuses, for an operation's ``response=`` (and the OpenAPI document)."""
    return dict.fromkeys(statuses, Problem)
