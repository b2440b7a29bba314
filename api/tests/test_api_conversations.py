import pytest

from api.tests.conftest import is_problem
from conftest import answer_question
from conversations import services
from conversations.models import Conversation, Message


def make_conversations(owner, count: int) -> list[Conversation]:
    return [services.conversation_create(owner=owner, title=f"Talk {n}", chat_type="answer") for n in range(count)]


def test_the_list_is_paginated_newest_first_and_only_the_callers(as_alice, alice, bob):
    make_conversations(alice, 3)
    make_conversations(bob, 2)

    first = as_alice.get("/conversations", {"page_size": 2}).json()
    second = as_alice.get("/conversations", {"page_size": 2, "page": 2}).json()
    beyond = as_alice.get("/conversations", {"page_size": 2, "page": 3}).json()

    assert [c["title"] for c in first["items"]] == ["Talk 2", "Talk 1"]
    assert [c["title"] for c in second["items"]] == ["Talk 0"]
    assert first["count"] == 3 and first["pages"] == 2 and beyond["items"] == []


def test_the_list_can_be_searched(as_alice, alice):
    make_conversations(alice, 2)
    assert [c["title"] for c in as_alice.get("/conversations", {"q": "talk 1"}).json()["items"]] == ["Talk 1"]


@pytest.mark.parametrize(
    "params", [{"page": 0}, {"page_size": 101}, {"page": "two"}, {"q": "x" * 201}], ids=["page 0", "big", "word", "q"]
)
def test_bad_list_parameters_are_422(as_alice, params):
    body = is_problem(as_alice.get("/conversations", params), 422)
    assert body["errors"][0]["loc"][0] == "query"


def test_create_with_collections_you_can_read(as_alice, alice, knowledge_base):
    response = as_alice.post("/conversations", {"title": "Garden", "chat_type": "explain", "collections": ["default"]})
    assert response.status_code == 201
    body = response.json()
    assert body["title"] == "Garden" and body["chat_type"] == "explain" and body["collections"] == ["default"]
    assert Conversation.objects.get(pk=body["id"]).owner == alice


@pytest.mark.parametrize(
    "body, where",
    [
        ({"collections": ["nope"]}, "No collection you can read is called nope"),
        ({"chat_type": "poem"}, "chat_type"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "NUL"),
    ],
    ids=["unknown collection", "chat type", "long title", "NUL"],
)
def test_bad_input_to_create_is_422_and_stores_nothing(as_alice, body, where):
    assert where in is_problem(as_alice.post("/conversations", body), 422)["detail"]
    assert not Conversation.objects.exists()


def test_read_a_conversation_with_its_messages_and_sources(as_alice, alices_message):
    hidden = answer_question(conversation=alices_message.conversation, question="A question a moderator hid")
    Message.objects.filter(pk=hidden.pk).update(hidden=True)

    body = as_alice.get(f"/conversations/{alices_message.conversation_id}").json()

    [message] = body["messages"]
    assert message["question"] == "When to prune roses?" and message["status"] == "answered"
    source = message["sources"][0]
    assert source["n"] == 1 and source["path"] == "garden/roses.md" and source["source_label"] == "garden/roses.md"
    assert "Prune roses" in source["text"] and source["page"] is None


def test_rename_change_style_and_collections(as_alice, alices_conversation, knowledge_base):
    path = f"/conversations/{alices_conversation.pk}"
    assert as_alice.patch(path, {"title": "  Pruning  "}).json()["title"] == "Pruning"
    body = as_alice.patch(path, {"chat_type": "summarize", "collections": ["default"]}).json()
    assert body == {**body, "title": "Pruning", "chat_type": "summarize", "collections": ["default"]}
    assert as_alice.patch(path, {"collections": []}).json()["collections"] == []


@pytest.mark.parametrize("body", [{"title": "   "}, {"title": ""}, {"collections": ["nope"]}])
def test_a_bad_rename_is_422_and_changes_nothing(as_alice, alices_conversation, body):
    is_problem(as_alice.patch(f"/conversations/{alices_conversation.pk}", body), 422)
    alices_conversation.refresh_from_db()
    assert alices_conversation.title == "Roses"


def test_delete(as_alice, alices_message):
    response = as_alice.delete(f"/conversations/{alices_message.conversation_id}")
    assert response.status_code == 204
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_message_and_its_feedback(as_alice, alices_message):
    path = f"/conversations/{alices_message.conversation_id}/messages/{alices_message.pk}"
    assert as_alice.get(path).json()["answer"] == alices_message.answer
    rated = as_alice.post(path + "/feedback", {"feedback": -1, "comment": "Too short"}).json()
    assert rated["feedback"] == -1 and rated["feedback_comment"] == "Too short"
    alices_message.refresh_from_db()
    assert alices_message.feedback == -1


@pytest.mark.parametrize("body", [{"feedback": 0}, {"feedback": 1, "comment": "x" * 2001}, {}])
def test_bad_feedback_is_422_and_keeps_the_old_one(as_alice, alices_message, body):
    path = f"/conversations/{alices_message.conversation_id}/messages/{alices_message.pk}/feedback"
    is_problem(as_alice.post(path, body), 422)
    alices_message.refresh_from_db()
    assert alices_message.feedback is None


def test_unknown_api_urls_are_problems_too(as_alice):
    is_problem(as_alice.get("/no/such/thing"), 404)


def test_a_method_the_url_does_not_take_is_a_problem_naming_those_it_does(as_alice, alices_conversation):
    response = as_alice.client.put(f"/api/conversations/{alices_conversation.pk}", headers=as_alice.headers)
    allowed = response["Allow"]
    assert set(allowed.split(", ")) == {"GET", "PATCH", "DELETE"}
    assert f"PUT is not an operation of this URL; it takes {allowed}." == is_problem(response, 405)["detail"]
