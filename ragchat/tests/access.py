"""The URL patterns of the project, walked from the resolver, and helpers for the access tests.

test_access.py checks the user URLs, test_admin_access.py everything under /admin/.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils.regex_helper import normalize

from api.models import ApiToken
from api.tokens import token_create
from conversations.models import ChatType, Conversation, Message, MessageSource
from documents.models import Collection, Document, ImportJob, ImportJobKind, Membership

# --- The URL patterns of the project --------------------------------------------------------------


@dataclass(frozen=True)
class UrlPattern:
    """One URL pattern as the resolver sees it, able to build its URL from values for its kwargs."""

    route: str  # as ResolverMatch.route gives it: "conversations/<int:conversation_id>/ask/"
    name: str | None  # "conversations:ask"; None for the few unnamed patterns of Django's admin
    namespace: str
    path_format: str  # "conversations/%(conversation_id)s/ask/"
    kwargs: tuple[str, ...]
    callback: Callable = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return self.name or self.route

    def url(self, values: dict) -> str:
        missing = [name for name in self.kwargs if name not in values]
        if missing:
            pytest.fail(f"{self.id} takes {missing}, which this module has no value for: add one, so it is tested.")
        url = "/" + self.path_format % {name: values[name] for name in self.kwargs}
        # The URL is built by hand: make sure it is this very pattern that answers it.
        assert resolve(url).route == self.route, f"{url} is not answered by {self.route}"
        return url


def _join_route(first: str, second: str) -> str:
    """As Django joins the routes of nested patterns into ResolverMatch.route."""
    return second if not first else first + second.removeprefix("^")


def _walk(patterns, route: str = "", regex: str = "", namespace: str = "") -> Iterator[UrlPattern]:
    for entry in patterns:
        entry_route = _join_route(route, str(entry.pattern))
        entry_regex = regex + entry.pattern.regex.pattern.removeprefix("^")
        if isinstance(entry, URLResolver):  # an include()
            nested = ":".join(filter(None, [namespace, entry.namespace]))
            yield from _walk(entry.url_patterns, entry_route, entry_regex, nested)
            continue
        # normalize() is what reverse() uses to turn a pattern into a format string.
        path_format, kwargs = normalize(entry_regex)[0]
        name = ":".join(filter(None, [namespace, entry.name])) if entry.name else None
        yield UrlPattern(entry_route, name, namespace, path_format, tuple(kwargs), entry.callback)


# Reachable without signing in. Anything not listed here (nor in the admin) must belong to a user.
PUBLIC_URL_NAMES = {
    "login",
    "logout",
    "signup",
    # Django's names for getting a forgotten password back, should they be added.
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    # Probes for load balancers, which cannot sign in; they show no user data.
    "healthz",
    "readyz",
    # The admin's own sign-in form: staff must reach it to sign in (admin_login answers it first).
    "admin:login",
    "admin_login",
    # Single sign-on's two steps: the way to the provider, and the way back from it.
    "oidc_authentication_init",
    "oidc_authentication_callback",
}

URLS = list(_walk(get_resolver().url_patterns))
PUBLIC_URLS = [p for p in URLS if p.name in PUBLIC_URL_NAMES]
# Everything under /admin/ is for staff: Django's admin and the staff pages included before it (insight).
ADMIN_ROOT = reverse("admin:index").removeprefix("/")
ADMIN_URLS = [p for p in URLS if p not in PUBLIC_URLS and p.route.startswith(ADMIN_ROOT)]
# The REST API under /api/ answers programs (401 and problem details, JSON bodies, more methods than
# GET and POST): api/tests/test_api_access.py walks its operations from its OpenAPI document instead.
API_URLS = [p for p in URLS if p.route.startswith("api/")]
# The OpenAI-compatible endpoint under /v1/ serves programs holding an API token, and nobody else:
# 401 in OpenAI's error shape, never a login page, whoever is signed in (test_access.py).
TOKEN_URLS = [p for p in URLS if p.route.startswith("v1/")]
USER_URLS = [p for p in URLS if p not in PUBLIC_URLS + ADMIN_URLS + API_URLS + TOKEN_URLS]
# User URLs naming a row (a conversation, a message) and those that do not (the list, the password form).
OBJECT_URLS = [p for p in USER_URLS if p.kwargs]
PAGE_URLS = [p for p in USER_URLS if not p.kwargs]
MESSAGE_URLS = [p for p in USER_URLS if "message_id" in p.kwargs]


def by_id(urls: list[UrlPattern]):
    """Parametrise over URL patterns, one test id per pattern."""
    return pytest.mark.parametrize("pattern", urls, ids=[p.id for p in urls])


# --- Requests and what they may change ------------------------------------------------------------

BOBS_QUESTION = "When should Bob prune his roses?"

# Valid values for every form of the site, so that a view which forgot its ownership check would act.
POST_BODY = {
    "question": "What did the other user ask?",
    "chat_type": ChatType.EXPLAIN,
    "title": "Taken over",
    "feedback": "-1",
    "comment": "Not mine to judge",
    "post": "yes",  # the admin's "Yes, I'm sure" on delete pages
}


def get_and_post(client: Client, url: str) -> dict[str, HttpResponse]:
    return {"GET": client.get(url), "POST": client.post(url, POST_BODY)}


def statuses(client: Client, url: str) -> dict[str, int]:
    return {method: response.status_code for method, response in get_and_post(client, url).items()}


def redirects_to(response: HttpResponse, url_name: str) -> bool:
    """A redirect to that page, whatever ?next= it carries."""
    return response.status_code == 302 and urlsplit(response.url).path == reverse(url_name)


def stored_rows(user) -> list:
    """Everything stored of the user's conversations and collections, field by field (updated_at included)."""
    return [
        list(Conversation.objects.filter(owner=user).order_by("pk").values()),
        list(Message.objects.filter(conversation__owner=user).order_by("pk").values()),
        list(MessageSource.objects.filter(message__conversation__owner=user).order_by("pk").values()),
        list(Collection.objects.filter(owner=user).order_by("pk").values()),
        list(Membership.objects.filter(collection__owner=user).order_by("pk").values()),
        list(Document.objects.filter(collection__owner=user).order_by("pk").values("pk", "title", "updated_at")),
    ]


def text_of(response: HttpResponse) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


def ids_of(message: Message) -> dict:
    """Values for every kwarg of the user URLs, naming the message's rows and the collection and
    document of its first passage (bobs_message makes that collection Bob's own, private one), an
    import job of that collection and an API token of the message's owner."""
    collection = message.context_used[0]["collection"]
    job, _ = ImportJob.objects.get_or_create(collection=collection, kind=ImportJobKind.UPLOAD)
    owner = message.conversation.owner
    token = ApiToken.objects.filter(user=owner).first() or token_create(user=owner, name="scripts")[0]
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "number": message.context_used[0]["n"],
        "name": collection,
        "document_id": message.context_used[0]["document_id"],
        "job_id": job.pk,  # a job of that collection, queued
        "token_id": token.pk,  # an API token of the message's owner
    }


def expect_404_where_the_owner_is_served(denied: dict[str, int], owner: dict[str, int]) -> None:
    """The same requests, made by the owner, reach the view (so the ids are right and the 404 means
    "not yours"); a 405 is fine only where the owner gets it too, as it then says nothing of the row."""
    for method, status in owner.items():
        assert status != 404, f"{method}: the owner gets 404 too, so this test proves nothing"
        assert denied[method] == (405 if status == 405 else 404), f"{method}: {denied[method]}"
