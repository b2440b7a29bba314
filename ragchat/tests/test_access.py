"""Nobody reaches another user's data (the admin: test_admin_access.py).

The URL patterns are collected from the resolver, not listed by hand, so a URL added later is
tested without anyone remembering this module. A pattern this module cannot fill in (a new kind of
id in its path) fails, so no URL ships untested: add a value for it (ids_of, admin_url).
"""

import ast
import inspect
import uuid
from types import ModuleType

import pytest
from django.test import Client
from django.urls import reverse

from conversations import services
from conversations.models import ChatType, Conversation, Message
from documents.collections import personal_collection
from ragchat.tests.access import (
    ADMIN_URLS,
    BOBS_QUESTION,
    MESSAGE_URLS,
    OBJECT_URLS,
    PAGE_URLS,
    PUBLIC_URLS,
    TOKEN_URLS,
    USER_URLS,
    by_id,
    expect_404_where_the_owner_is_served,
    get_and_post,
    ids_of,
    redirects_to,
    statuses,
    stored_rows,
    text_of,
)

pytestmark = pytest.mark.usefixtures("cheap_rows")


def test_the_walk_finds_urls_of_every_kind():
    """If the walk found nothing, every parametrised test below would pass without testing."""
    assert {
        "conversations:list",
        "conversations:detail",
        "conversations:passage",
        "password_change",
        "documents:list",
        "documents:collection",
        "documents:document",
    } <= {p.name for p in USER_URLS}
    assert {
        "admin:index",
        "admin:conversations_message_change",
        "admin:auth_user_password_change",
        "insight:index",
    } <= {p.name for p in ADMIN_URLS}
    assert {"login", "admin:login"} <= {p.name for p in PUBLIC_URLS}
    assert OBJECT_URLS and PAGE_URLS and MESSAGE_URLS


# --- User URLs ------------------------------------------------------------------------------------


@by_id(USER_URLS)
def test_anonymous_visitors_are_sent_to_login(client, bobs_message, pattern):
    url = pattern.url(ids_of(bobs_message))
    before = stored_rows(bobs_message.conversation.owner)
    for method, response in get_and_post(client, url).items():
        assert response.status_code == 405 or redirects_to(response, "login"), f"{method}: {response.status_code}"
    assert stored_rows(bobs_message.conversation.owner) == before


@by_id(TOKEN_URLS)
def test_token_urls_refuse_visitors_and_signed_in_sessions_alike(client, alice, bobs_message, pattern):
    url = pattern.url(ids_of(bobs_message))
    before = stored_rows(bobs_message.conversation.owner)
    anonymous = statuses(client, url)
    client.force_login(alice)  # a session is not a token: another site's page could ride on its cookie
    signed_in = statuses(client, url)
    for answered in (anonymous, signed_in):
        assert 401 in answered.values() and set(answered.values()) <= {401, 405}, answered
    assert stored_rows(bobs_message.conversation.owner) == before


@by_id(OBJECT_URLS)
def test_another_users_ids_are_404(client, alice, bobs_message, pattern):
    bob = bobs_message.conversation.owner
    urls = [pattern.url(ids_of(bobs_message))]
    if "conversation_id" in pattern.kwargs and "message_id" in pattern.kwargs:
        # Her own conversation around his message: the message must be looked up within the conversation.
        alices = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
        urls.append(pattern.url({**ids_of(bobs_message), "conversation_id": alices.pk}))
    if "name" in pattern.kwargs and "document_id" in pattern.kwargs:
        # Her own collection around his document: the document must be looked up within the collection.
        urls.append(pattern.url({**ids_of(bobs_message), "name": personal_collection(alice).name}))
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
