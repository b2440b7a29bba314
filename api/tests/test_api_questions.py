import asyncio
import json
import uuid

import pytest
from django.test import AsyncClient

from api.tests.conftest import is_problem
from conversations.models import Conversation, Message


def events_of(response) -> list[tuple[str, dict]]:
    """The server-sent events of a streamed answer (the response, or its chunks), as (event, data) pairs."""
    text = b"".join(getattr(response, "streaming_content", response)).decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_asking_starts_a_conversation_and_answers_with_numbered_sources(as_alice, alice, knowledge_base):
    response = as_alice.post("/questions", {"question": "When should I prune roses?"})

    assert response.status_code == 201
    message = response.json()
    assert message["status"] == "answered" and "[1]" in message["answer"]
    assert message["sources"][0]["path"] == "garden/roses.md" and "Prune roses" in message["sources"][0]["text"]
    assert Conversation.objects.get(pk=message["conversation_id"]).owner == alice


def test_asking_in_a_conversation_keeps_its_history(as_alice, alices_message):
    path = f"/conversations/{alices_message.conversation_id}/questions"
    message = as_alice.post(path, {"question": "and the tomatoes?"}).json()
    assert message["conversation_id"] == alices_message.conversation_id
    # A follow-up is searched together with the earlier question (conversations.followup).
    assert "roses" in message["search_query"].lower() and "tomatoes" in message["search_query"]


def test_a_new_conversation_searches_only_the_collections_named(as_alice, knowledge_base):
    message = as_alice.post("/questions", {"question": "When to prune roses?", "collections": ["default"]}).json()
    assert Conversation.objects.get(pk=message["conversation_id"]).collections.get().name == "default"


def test_the_answer_streams_as_server_sent_events(as_alice, knowledge_base):
    response = as_alice.post("/questions", {"question": "How do I descale the kettle?"}, Accept="text/event-stream")

    assert response.status_code == 201 and response["Content-Type"] == "text/event-stream"
    assert response["Cache-Control"] == "no-store"
    events = events_of(response)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and kinds.count("delta") >= 2
    done = events[-1][1]
    assert done["answer"] == "".join(data["text"] for kind, data in events if kind == "delta")
    assert Message.objects.get(pk=events[0][1]["message_id"]).answer == done["answer"]


def test_the_same_submission_id_is_stored_and_answered_once(as_alice, knowledge_base):
    body = {"question": "When to prune roses?", "submission_id": str(uuid.uuid4())}
    first = as_alice.post("/questions", body)
    again = as_alice.post("/questions", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and Message.objects.count() == 1


@pytest.mark.parametrize(
    "body, says",
    [
        ({"question": ""}, "Please type a question."),
        ({"question": "   "}, "Please type a question."),
        ({"question": "x" * 4001}, "Questions can be at most 4000 characters long (this one has 4001)."),
        ({"question": "roses\x00"}, "NUL"),
        ({"question": "roses", "chat_type": "poem"}, "chat_type"),
        ({}, "question"),
        ({"question": "roses", "collections": ["nope"]}, "No collection you can read is called nope"),
    ],
    ids=["empty", "blank", "too long", "NUL", "chat type", "missing", "collection"],
)
def test_questions_are_held_to_the_forms_limits(as_alice, body, says):
    assert says in is_problem(as_alice.post("/questions", body), 422)["detail"]
    assert not Message.objects.exists()


def test_the_pages_question_budget_applies_with_retry_after(as_alice, alice_client, settings, knowledge_base):
    settings.ASK_RATE_LIMIT = 2
    settings.ASK_RATE_WINDOW_SECONDS = 3600
    alice_client.post("/conversations/new/", {"question": "Kettle?", "chat_type": "answer"})  # the page counts too
    assert as_alice.post("/questions", {"question": "Roses?"}).status_code == 201

    refused = as_alice.post("/questions", {"question": "Tomatoes?"})

    body = is_problem(refused, 429)
    assert "2 questions in 3600 seconds" in body["detail"]
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert not Message.objects.filter(question="Tomatoes?").exists()


@pytest.mark.django_db(transaction=True)
def test_under_asgi_the_events_come_from_the_async_pipeline_as_they_are_written(alice, alice_token, knowledge_base):
    async def ask() -> tuple:
        response = await AsyncClient().post(
            "/api/questions",
            {"question": "How often should the bike chain be oiled?"},
            content_type="application/json",
            headers={"Authorization": f"Bearer {alice_token}", "Accept": "text/event-stream"},
        )
        return response, [chunk async for chunk in response.streaming_content]

    response, chunks = asyncio.run(ask())

    assert response.is_async and response.status_code == 201  # sent piece by piece, not gathered first
    events = events_of(chunks)
    assert [kind for kind, _ in events][0] == "start" and events[-1][0] == "done"
    message = Message.objects.get(pk=events[0][1]["message_id"])
    assert message.answer == events[-1][1]["answer"] and "300 kilometres" in message.answer
