"""Nobody reaches another user's data through the API, and nobody without a token reaches anything.

The operations are read from the API's own OpenAPI document, so an operation added later is tested
here without anyone remembering this module; one taking a path parameter this module has no value
for fails until it gets one."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api import conversations, knowledge, questions
from api.rest import api
from api.tests.conftest import is_problem
from conversations import services
from conversations.models import ChatType, Conversation, Message
from documents.models import Collection, Document, ImportJob, ImportJobKind
from documents.tests.conftest import make_document
from ragchat.tests.test_access import unscoped_uses

OPERATIONS = [
    (method.upper(), path, operation["operationId"])
    for path, methods in api.get_openapi_schema()["paths"].items()
    for method, operation in methods.items()
]
ID_OPERATIONS = [op for op in OPERATIONS if "{" in op[1]]
# Valid for every operation that takes JSON (each reads its own fields), so a missing check would act.
BODY = {"question": "What did Bob ask?", "title": "Taken over", "chat_type": ChatType.EXPLAIN, "feedback": -1,
        "comment": "Not mine to judge", "collections": []}  # fmt: skip


def by_operation(operations):
    return pytest.mark.parametrize("method, path, operation_id", operations, ids=[op[2] for op in operations])


@pytest.fixture
def bobs(bob) -> dict:
    """Bob's rows, as values for every path parameter of the API."""
    conversation = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER, title="Bob's garden")
    message = services.message_create(conversation=conversation, question="Bob's question", chat_type="answer")
    collection = Collection.objects.create(name="bobs-notes", title="Bob's notes", owner=bob)
    make_document(collection, "roses.md", [("Roses", "Prune roses in late winter.")])
    job = ImportJob.objects.create(collection=collection.name, kind=ImportJobKind.UPLOAD, started_by=bob)
    return {"conversation_id": conversation.pk, "message_id": message.pk, "name": collection.name, "job_id": job.pk}


def url_of(path: str, values: dict) -> str:
    try:
        return path.format(**values)
    except KeyError as missing:
        pytest.fail(f"{path} takes {missing}, which this module has no value for: add one, so it is tested.")


def send(client: Client, method: str, url: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if url.endswith("/uploads"):
        return client.post(url, {"files": [SimpleUploadedFile("a.md", b"# A")]}, headers=headers)
    body = json.dumps(BODY) if method in ("POST", "PATCH") else None
    return client.generic(method, url, body or "", content_type="application/json", headers=headers)


def bobs_rows(bob) -> list:
    return [
        list(Conversation.objects.filter(owner=bob).values()),
        list(Message.objects.filter(conversation__owner=bob).values()),
        list(Collection.objects.filter(owner=bob).values()),
        list(Document.objects.filter(collection__owner=bob).values("pk", "title", "updated_at")),
        list(ImportJob.objects.filter(started_by=bob).values()),
    ]


def test_the_document_lists_operations_of_every_kind():
    """If the walk found nothing, the tests below would pass without testing."""
    ids = {op[2] for op in ID_OPERATIONS}
    assert {"api_conversations_conversation_delete", "api_questions_question_ask", "api_knowledge_job_detail"} <= ids
    assert len(OPERATIONS) >= 15


@by_operation(OPERATIONS)
def test_without_a_token_every_operation_is_401(client, bobs, bob, method, path, operation_id):
    before = bobs_rows(bob)
    is_problem(send(client, method, url_of(path, bobs), None), 401)
    assert bobs_rows(bob) == before


@by_operation(ID_OPERATIONS)
def test_another_users_ids_are_404_from_every_operation(
    alice, alice_token, bob, bob_token, bobs, method, path, operation_id
):
    urls = [url_of(path, bobs)]
    if "{message_id}" in path:  # her own conversation around his message: looked up within the conversation
        alices = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
        urls.append(url_of(path, {**bobs, "conversation_id": alices.pk}))
    before = bobs_rows(bob)

    for url in urls:
        is_problem(send(Client(), method, url, alice_token), 404)
    assert bobs_rows(bob) == before

    # Last, as it may change Bob's rows: Bob himself is served, so the 404 above meant "not yours".
    assert send(Client(), method, urls[0], bob_token).status_code != 404


def test_hidden_messages_are_404_to_their_owner(client, bob_token, bobs):
    Message.objects.filter(pk=bobs["message_id"]).update(hidden=True)
    path = "/api/conversations/{conversation_id}/messages/{message_id}".format(**bobs)
    is_problem(send(client, "GET", path, bob_token), 404)
    is_problem(send(client, "POST", path + "/feedback", bob_token), 404)


def test_the_api_reads_conversations_only_through_for_user():
    assert [use for module in (conversations, questions, knowledge) for use in unscoped_uses(module)] == []
