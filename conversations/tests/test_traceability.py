"""Request ids from the response header to the stored message and the log lines, and questions
that are sent twice but stored and answered once."""

import json
import logging
import uuid

import pytest
from django.urls import reverse

from conftest import STREAM, run_at_once
from conversations import services
from conversations.models import Conversation, Message, MessageStatus
from ragchat.requestlog import JsonFormatter, RequestIdFilter


@pytest.fixture
def json_log_lines():
    """The JSON lines the production log handler would write during the test."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in lines]
    root.removeHandler(handler)


def test_the_request_id_is_returned_stored_on_the_message_and_on_its_log_lines(
    alice_client, knowledge_base, json_log_lines
):
    response = alice_client.post(reverse("conversations:create"), {"question": "Kettle?", "chat_type": "answer"})
    request_id = response["X-Request-ID"]
    message = Message.objects.get()
    assert message.request_id == request_id and len(request_id) == 32

    mine = [line for line in json_log_lines() if line["request_id"] == request_id]
    by_text = {line["message"]: line for line in mine}
    assert by_text["Question stored"]["message_id"] == message.pk
    assert by_text["Answer recorded"]["status"] == "answered"
    request_line = by_text["POST /conversations/new/ 302"]
    assert request_line["user_id"] == message.conversation.owner_id and request_line["duration_ms"] >= 0


def test_a_request_id_from_the_proxy_is_kept_and_a_malformed_one_replaced(alice_client, db):
    kept = alice_client.get(reverse("conversations:list"), HTTP_X_REQUEST_ID="lb-7f3a9c21-0042")
    assert kept["X-Request-ID"] == "lb-7f3a9c21-0042"
    replaced = alice_client.get(reverse("conversations:list"), HTTP_X_REQUEST_ID="<script>\n")
    assert replaced["X-Request-ID"] != "<script>\n" and len(replaced["X-Request-ID"]) == 32


def test_regenerating_records_the_new_request_id(alice_client, knowledge_base):
    alice_client.post(reverse("conversations:create"), {"question": "Kettle?", "chat_type": "answer"})
    message = Message.objects.get()
    url = reverse("conversations:regenerate", args=[message.conversation_id, message.pk])
    response = alice_client.post(url)
    message.refresh_from_db()
    assert message.request_id == response["X-Request-ID"]


def _form(question: str, submission_id: str) -> dict:
    return {"question": question, "chat_type": "answer", "submission_id": submission_id}


def test_a_form_sent_twice_is_stored_and_answered_once(alice_client, knowledge_base, fake_chat_model, settings):
    settings.CHAT_MODEL = "fake:scripted"
    model = fake_chat_model("Roses are pruned in late winter [1].")  # one reply only: a second call would fail
    form = _form("When to prune roses?", uuid.uuid4().hex)
    first = alice_client.post(reverse("conversations:create"), form)
    again = alice_client.post(reverse("conversations:create"), form)

    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert Conversation.objects.count() == 1
    message = Message.objects.get()
    assert message.status == MessageStatus.ANSWERED and message.answer == "Roses are pruned in late winter [1]."
    assert next(model.messages, None) is None


def test_a_streamed_resubmission_gets_the_first_answer_without_answering_again(alice_client, knowledge_base):
    form = _form("How often should the bike chain be oiled?", uuid.uuid4().hex)
    first = [json.loads(line) for chunk in alice_client.post(reverse("conversations:create"), form, **STREAM)
             .streaming_content for line in chunk.decode().splitlines()]  # fmt: skip
    answered_at = Message.objects.get().answered_at

    again = alice_client.post(reverse("conversations:create"), form, **STREAM)
    events = [json.loads(line) for chunk in again.streaming_content for line in chunk.decode().splitlines()]

    assert [e["type"] for e in events] == ["start", "done"]
    assert events[0]["message_id"] == first[0]["message_id"] and events[1]["status"] == "answered"
    assert Message.objects.get().answered_at == answered_at
    # Each start event hands out a fresh id for the form's next question.
    assert events[0]["next_submission_id"] != first[0]["next_submission_id"] != form["submission_id"]


def test_the_same_submission_id_from_another_user_is_not_theirs(client, alice, bob, knowledge_base):
    submission_id = uuid.uuid4().hex
    client.force_login(alice)
    client.post(reverse("conversations:create"), _form("Kettle?", submission_id))
    client.force_login(bob)
    response = client.post(reverse("conversations:create"), _form("Roses?", submission_id))
    # Bob is not sent to alice's message: his own question is stored and answered.
    bobs = Message.objects.get(conversation__owner=bob)
    assert response.url.endswith(f"#message-{bobs.pk}")
    assert bobs.question == "Roses?" and bobs.status == MessageStatus.ANSWERED
    assert Message.objects.get(conversation__owner=alice).question == "Kettle?"


@pytest.mark.django_db(transaction=True)
def test_two_copies_arriving_at_once_store_one_message(alice):
    submission_id = uuid.uuid4()

    def submit() -> tuple[int, bool]:
        message, created = services.question_submit(
            owner=alice, conversation=None, question="Kettle?", chat_type="answer",
            submission_id=submission_id, request_id="",
        )  # fmt: skip
        return message.pk, created

    results, errors = run_at_once(submit)

    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_moderators_find_a_message_by_its_request_id_in_the_admin(client, alice, knowledge_base):
    staff = alice.__class__.objects.create_superuser("mod", password="pw-mod")
    client.force_login(alice)
    request_id = client.post(reverse("conversations:create"), {"question": "Kettle?", "chat_type": "answer"})[
        "X-Request-ID"
    ]
    message = Message.objects.get()
    client.force_login(staff)
    found = client.get(reverse("admin:conversations_message_changelist"), {"q": request_id})
    assert found.context["cl"].result_count == 1
    page = client.get(reverse("admin:conversations_message_change", args=[message.pk])).content.decode()
    assert request_id in page
