"""Nobody reaches another user's data, and only staff reach the admin.

The URL patterns are collected from the resolver, not listed by hand, so a URL added later is
tested without anyone remembering this module. A pattern this module cannot fill in (a new kind of
id in its path) fails, so no URL ships untested: add a value for it here.
"""

import ast
import inspect
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from types import ModuleType
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django.utils.regex_helper import normalize

from conftest import make_user
from conversations import services
from conversations.models import (
    ChatModelConfig,
    ChatType,
    Conversation,
    Message,
    MessageSource,
    MessageStatus,
    PromptVersion,
)
from documents.embeddings import MiniLMEmbeddings
from documents.models import Chunk, Document, ImportJob, ImportJobKind, ImportJobStatus
from documents.search import RetrievedChunk

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
    # The admin's own sign-in form: staff must reach it to sign in.
    "admin:login",
}

URLS = list(_walk(get_resolver().url_patterns))
PUBLIC_URLS = [p for p in URLS if p.name in PUBLIC_URL_NAMES]
ADMIN_URLS = [p for p in URLS if p not in PUBLIC_URLS and p.namespace.split(":")[0] == "admin"]
USER_URLS = [p for p in URLS if p not in PUBLIC_URLS and p not in ADMIN_URLS]
# User URLs naming a row (a conversation, a message) and those that do not (the list, the password form).
OBJECT_URLS = [p for p in USER_URLS if p.kwargs]
PAGE_URLS = [p for p in USER_URLS if not p.kwargs]
MESSAGE_URLS = [p for p in USER_URLS if "message_id" in p.kwargs]


def by_id(urls: list[UrlPattern]):
    """Parametrise over URL patterns, one test id per pattern."""
    return pytest.mark.parametrize("pattern", urls, ids=[p.id for p in urls])


def test_the_walk_finds_urls_of_every_kind():
    """If the walk found nothing, every parametrised test below would pass without testing."""
    assert {"conversations:list", "conversations:detail", "conversations:source", "password_change"} <= {
        p.name for p in USER_URLS
    }
    assert {"admin:index", "admin:conversations_message_change", "admin:auth_user_password_change"} <= {
        p.name for p in ADMIN_URLS
    }
    assert {"login", "admin:login"} <= {p.name for p in PUBLIC_URLS}
    assert OBJECT_URLS and PAGE_URLS and MESSAGE_URLS


# --- Requests and what they may change ------------------------------------------------------------

BOBS_QUESTION = "When should Bob prune his roses?"

_embed_documents = MiniLMEmbeddings.embed_documents
_vectors: dict[str, list[float]] = {}


@pytest.fixture(autouse=True)
def _build_rows_cheaply(settings, monkeypatch):
    """Hash passwords with a fast hasher, and embed each text with the real model once per run.

    There are some 200 tests here, each importing the knowledge base and answering a question;
    these two costs made up most of their time. The vectors stay real, so retrieval still finds the
    passage Bob's answer must cite for the source URLs.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        new = [text for text in dict.fromkeys(texts) if text not in _vectors]
        if new:
            _vectors.update(zip(new, _embed_documents(self, new), strict=True))
        return [_vectors[text] for text in texts]

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", embed_documents)


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
    """Everything stored of the user's conversations, field by field (updated_at included)."""
    return [
        list(Conversation.objects.filter(owner=user).order_by("pk").values()),
        list(Message.objects.filter(conversation__owner=user).order_by("pk").values()),
        list(MessageSource.objects.filter(message__conversation__owner=user).order_by("pk").values()),
    ]


def text_of(response: HttpResponse) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode()


@pytest.fixture
def bobs_message(knowledge_base, bob) -> Message:
    """Bob's conversation, with one answered question citing a passage of the knowledge base.

    The answer is recorded from a stored chunk, not retrieved: these 200-odd tests import the same
    five chunks (identical vectors) and roll them back each time, and in full runs a search now and
    then came back without them (~2% of these tests). We believe the HNSW graph filling up with
    dead exact duplicates is the cause; retrieval itself is tested elsewhere, access is tested here.
    """
    conversation = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    message = services.message_create(conversation=conversation, question=BOBS_QUESTION, chat_type=ChatType.ANSWER)
    chunk = Chunk.objects.select_related("document").get(text__contains="Prune roses")
    document = chunk.document
    passage = RetrievedChunk(chunk.pk, document.pk, document.collection, document.source, document.title,
                             chunk.heading, chunk.text, chunk.position, score=1.0, similarity=1.0)  # fmt: skip
    message.context_used = [{"n": 1, **asdict(passage)}]
    message.answer, message.status = "Prune roses in late winter [1].", MessageStatus.ANSWERED
    message.save()
    MessageSource.objects.create(message=message, chunk=chunk, rank=1, score=1.0)
    return message


def ids_of(message: Message) -> dict:
    """Values for every kwarg of the user URLs, naming the message's rows."""
    return {
        "conversation_id": message.conversation_id,
        "message_id": message.pk,
        "number": message.context_used[0]["n"],
    }


def expect_404_where_the_owner_is_served(denied: dict[str, int], owner: dict[str, int]) -> None:
    """The same requests, made by the owner, reach the view (so the ids are right and the 404 means
    "not yours"); a 405 is fine only where the owner gets it too, as it then says nothing of the row."""
    for method, status in owner.items():
        assert status != 404, f"{method}: the owner gets 404 too, so this test proves nothing"
        assert denied[method] == (405 if status == 405 else 404), f"{method}: {denied[method]}"


# --- User URLs ------------------------------------------------------------------------------------


@by_id(USER_URLS)
def test_anonymous_visitors_are_sent_to_login(client, bobs_message, pattern):
    url = pattern.url(ids_of(bobs_message))
    before = stored_rows(bobs_message.conversation.owner)
    for method, response in get_and_post(client, url).items():
        assert response.status_code == 405 or redirects_to(response, "login"), f"{method}: {response.status_code}"
    assert stored_rows(bobs_message.conversation.owner) == before


@by_id(OBJECT_URLS)
def test_another_users_ids_are_404(client, alice, bobs_message, pattern):
    bob = bobs_message.conversation.owner
    urls = [pattern.url(ids_of(bobs_message))]
    if "conversation_id" in pattern.kwargs and "message_id" in pattern.kwargs:
        # Her own conversation around his message: the message must be looked up within the conversation.
        alices = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
        urls.append(pattern.url({**ids_of(bobs_message), "conversation_id": alices.pk}))
    before = stored_rows(bob)

    client.force_login(alice)
    denied = [statuses(client, url) for url in urls]
    assert stored_rows(bob) == before

    # Last, as it may change Bob's rows (ask, delete): Bob himself is served.
    client.force_login(bob)
    owner = statuses(client, urls[0])
    for alices_statuses in denied:
        expect_404_where_the_owner_is_served(alices_statuses, owner)


@by_id(PAGE_URLS)
def test_pages_without_ids_show_nothing_of_another_user(client, alice, bobs_message, pattern):
    bob = bobs_message.conversation.owner
    before = stored_rows(bob)
    client.force_login(alice)
    for method, response in get_and_post(client, pattern.url({})).items():
        page = text_of(response)
        assert BOBS_QUESTION not in page and bobs_message.conversation.title not in page, method
    # A question Alice asks here starts a conversation of hers, never one of Bob's.
    assert stored_rows(bob) == before


@by_id(MESSAGE_URLS)
def test_hidden_messages_are_404_to_their_owner(client, bobs_message, pattern):
    url = pattern.url(ids_of(bobs_message))
    bob = bobs_message.conversation.owner
    Message.objects.filter(pk=bobs_message.pk).update(hidden=True)
    client.force_login(bob)
    before = stored_rows(bob)
    hidden = statuses(client, url)
    assert stored_rows(bob) == before

    Message.objects.filter(pk=bobs_message.pk).update(hidden=False)
    expect_404_where_the_owner_is_served(hidden, statuses(client, url))


def test_hidden_messages_are_left_out_of_their_owners_pages(client, bobs_message):
    # A title of its own, as the one made from the question would show it anyway.
    Conversation.objects.filter(pk=bobs_message.conversation_id).update(title="Garden questions")
    Message.objects.filter(pk=bobs_message.pk).update(hidden=True)
    client.force_login(bobs_message.conversation.owner)
    detail = client.get(reverse("conversations:detail", args=[bobs_message.conversation_id]))
    assert detail.status_code == 200 and BOBS_QUESTION not in detail.content.decode()
    search = client.get(reverse("conversations:list"), {"q": "prune his roses"})
    assert search.status_code == 200 and "Garden questions" not in search.content.decode()


@pytest.mark.parametrize("accept", ["text/html", "application/x-ndjson"], ids=["form", "script"])
def test_another_users_submission_id_does_not_bring_back_their_message(alice, bobs_message, accept):
    """A resubmitted form returns the first copy of its question: only ever one of the sender's.

    Nor may the answer depend on whether someone else used the id: an error there would tell her so.
    """
    bob = bobs_message.conversation.owner
    submission_id = uuid.uuid4()
    Message.objects.filter(pk=bobs_message.pk).update(submission_id=submission_id)
    before = stored_rows(bob)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    body = {"question": "Roses?", "chat_type": ChatType.ANSWER, "submission_id": submission_id}
    response = client.post(reverse("conversations:create"), body, headers={"accept": accept})
    assert response.status_code < 500
    bobs_page = reverse("conversations:detail", args=[bobs_message.conversation_id])
    assert bobs_page not in response.get("Location", "") and bobs_page not in text_of(response)
    assert BOBS_QUESTION not in text_of(response)
    assert stored_rows(bob) == before


def test_public_pages_show_nobodys_conversations(client, bobs_message):
    for pattern in PUBLIC_URLS:
        assert BOBS_QUESTION not in text_of(client.get(pattern.url({}))), pattern.id


# --- The admin ------------------------------------------------------------------------------------


def registered_models() -> list:
    return [model for model in apps.get_models() if admin.site.is_registered(model)]


def admin_model_of(pattern: UrlPattern):
    """The model whose ModelAdmin serves the URL (admin/<app>/<model>/...); None for the site's own views."""
    root = reverse("admin:index").removeprefix("/")
    for model in registered_models():
        if pattern.route.startswith(f"{root}{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


@pytest.fixture
def admin_rows(bobs_message, bob) -> dict:
    """A real row of every model registered in the admin, for the object ids in its URLs."""
    chunk = Chunk.objects.select_related("document").first()
    config = ChatModelConfig.objects.create(name="Local test model", model="openai:gpt-test")
    job = ImportJob.objects.create(
        collection="default",
        kind=ImportJobKind.UPLOAD,
        status=ImportJobStatus.SUCCEEDED,
        file_names=["kettle.txt"],
        finished_at=timezone.now(),
    )
    return {
        Conversation: bobs_message.conversation,
        Message: bobs_message,
        Document: chunk.document,
        Chunk: chunk,
        ImportJob: job,
        PromptVersion: PromptVersion.objects.create(
            chat_type=ChatType.ANSWER, system_prompt="Answer briefly.", model_config=config
        ),
        ChatModelConfig: config,
        get_user_model(): bob,
        Group: Group.objects.create(name="Moderators"),
        # django-axes' records of log-ins (failures, lockouts), which staff read and may delete.
        AccessAttempt: AccessAttempt.objects.create(username="bob", ip_address="203.0.113.5", failures_since_start=1),
        AccessLog: AccessLog.objects.create(username="bob", ip_address="203.0.113.5"),
        AccessFailureLog: AccessFailureLog.objects.create(username="bob", ip_address="203.0.113.5"),
    }


def admin_url(pattern: UrlPattern, rows: dict) -> str:
    model = admin_model_of(pattern)
    if model is not None:
        if model not in rows:
            pytest.fail(f"{model.__name__} is registered in the admin: add a row of it to admin_rows.")
        # object_id in ModelAdmin URLs; the user admin's password form calls it id.
        return pattern.url({"object_id": rows[model].pk, "id": rows[model].pk})
    # The AdminSite's own views, each filled in deliberately rather than skipped:
    return pattern.url(
        {
            "app_label": "conversations",  # admin:app_list, the index of one app
            # admin:view_on_site, Django's redirect to an object's page on the site.
            "content_type_id": ContentType.objects.get_for_model(Conversation).pk,
            "object_id": rows[Conversation].pk,
            "url": "no-such-page/",  # the unnamed catch-all, which answers unknown admin paths
        }
    )


def admin_rows_snapshot() -> dict:
    """The primary keys of every model in the admin: nothing may be added or deleted."""
    return {model: sorted(model._default_manager.values_list("pk", flat=True)) for model in registered_models()}


def assert_sent_to_admin_login(client: Client, pattern: UrlPattern, rows: dict) -> None:
    url = admin_url(pattern, rows)
    before = admin_rows_snapshot()
    # Django sends a logout by someone who is not staff to the index, which sends on to the login.
    target = "admin:index" if pattern.name == "admin:logout" else "admin:login"
    for method, response in get_and_post(client, url).items():
        assert redirects_to(response, target), f"{method} {url}: {response.status_code}"
    assert admin_rows_snapshot() == before


@by_id(ADMIN_URLS)
def test_the_admin_sends_anonymous_visitors_to_its_login(client, admin_rows, pattern):
    assert_sent_to_admin_login(client, pattern, admin_rows)


@by_id(ADMIN_URLS)
def test_the_admin_sends_users_who_are_not_staff_to_its_login(client, alice, admin_rows, pattern):
    client.force_login(alice)
    assert_sent_to_admin_login(client, pattern, admin_rows)


# What staff get instead of 200, and why that is right. Anything else fails: a new admin URL must
# work for staff or be listed here with its reason, so the walk is known to reach every view.
STAFF_STATUS = {
    "admin:logout": 405,  # POST only, since Django 5.0
    "admin:view_on_site": 404,  # none of the models has get_absolute_url
    "admin/(?P<url>.*)$": 404,  # the unnamed catch-all: there is no such admin page
    "admin:documents_document_add": 302,  # documents are added by uploading files: sent there
    # Records the app makes, which the admin only shows.
    "admin:documents_importjob_add": 403,
    "admin:documents_importjob_delete": 403,
    "admin:documents_chunk_add": 403,
    "admin:conversations_message_add": 403,
    "admin:conversations_promptversion_delete": 403,  # messages point at the version that answered them
    # django-axes writes these itself when someone logs in.
    "admin:axes_accessattempt_add": 403,
    "admin:axes_accesslog_add": 403,
    "admin:axes_accessfailurelog_add": 403,
}
# Query strings a view needs to answer 200: the autocomplete refuses a request without them.
STAFF_QUERY = {
    "admin:autocomplete": {"app_label": "conversations", "model_name": "conversation", "field_name": "owner"},
}


def expected_staff_status(pattern: UrlPattern) -> int:
    if pattern.id in STAFF_STATUS:
        return STAFF_STATUS[pattern.id]
    if pattern.name is None and admin_model_of(pattern) is not None:
        return 302  # Django's unnamed redirect from <id>/ to <id>/change/
    return 200


@by_id(ADMIN_URLS)
def test_staff_reach_every_admin_view(client, admin_rows, pattern):
    client.force_login(make_user("staff", is_staff=True, is_superuser=True))
    response = client.get(admin_url(pattern, admin_rows), STAFF_QUERY.get(pattern.id, {}))
    assert response.status_code == expected_staff_status(pattern)
    assert not redirects_to(response, "admin:login")


# --- Querysets ------------------------------------------------------------------------------------

# Rows that belong to a user, through Conversation.owner.
OWNED_MODELS = {"Conversation", "Message", "MessageSource"}


def view_modules() -> set[ModuleType]:
    """The project's modules holding the views of the user URLs; Django's own views are not ours to check."""
    views = {getattr(p.callback, "view_class", inspect.unwrap(p.callback)) for p in USER_URLS}
    return {module for module in map(inspect.getmodule, views) if not module.__name__.startswith("django.")}


def unscoped_uses(module: ModuleType) -> list[str]:
    """Uses of the owned models other than ``Conversation.objects.for_user(...)`` and type hints."""
    tree = ast.parse(inspect.getsource(module))
    hints = [node.annotation for node in ast.walk(tree) if isinstance(node, ast.arg | ast.AnnAssign)]
    hints += [node.returns for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    allowed = {id(name) for hint in hints if hint is not None for name in ast.walk(hint)}
    allowed |= {
        id(node.value.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "for_user"
        and isinstance(node.value, ast.Attribute) and node.value.attr == "objects"
    }  # fmt: skip
    return [
        f"{module.__name__}, line {node.lineno}: {node.id}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in OWNED_MODELS and id(node) not in allowed
    ]


def test_views_read_conversations_only_through_for_user():
    """Messages are reached through a conversation of the user's, never by id alone."""
    modules = view_modules()
    assert "conversations.views" in {module.__name__ for module in modules}
    assert [use for module in modules for use in unscoped_uses(module)] == []


def test_conversation_reads_for_a_user_never_include_another_users(alice, bob):
    mine = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    assert list(Conversation.objects.for_user(alice)) == [mine]
    assert list(Conversation.objects.for_user(alice).recent()) == [mine]
    assert list(Conversation.objects.recent().for_user(alice)) == [mine]


def test_a_resubmission_is_looked_up_among_the_senders_messages_only(alice, bob):
    conversation = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    submission_id = uuid.uuid4()
    bobs = services.message_create(
        conversation=conversation, question=BOBS_QUESTION, chat_type=ChatType.ANSWER, submission_id=submission_id
    )
    assert list(Message.objects.submitted(owner=bob, submission_id=submission_id)) == [bobs]
    assert not Message.objects.submitted(owner=alice, submission_id=submission_id).exists()
