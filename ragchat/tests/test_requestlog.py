"""Request ids (requestlog.py): from the response header to the stored message, its log lines
and the admin's search."""

import json
import logging
import re

import pytest
from django.urls import reverse

from conftest import ask
from conversations.models import Message
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
    response = ask(alice_client, "Kettle?")
    request_id = response["X-Request-ID"]
    message = Message.objects.get()
    assert message.request_id == request_id and re.fullmatch("[0-9a-f]{32}", request_id)

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
    assert re.fullmatch("[0-9a-f]{32}", replaced["X-Request-ID"])  # a fresh id of our own


def test_moderators_find_a_message_by_its_request_id_in_the_admin(client, alice, staff_user, knowledge_base):
    client.force_login(alice)
    request_id = ask(client, "Kettle?")["X-Request-ID"]
    message = Message.objects.get()
    client.force_login(staff_user)
    found = client.get(reverse("admin:conversations_message_changelist"), {"q": request_id})
    assert found.context["cl"].result_count == 1
    page = client.get(reverse("admin:conversations_message_change", args=[message.pk])).content.decode()
    assert request_id in page
