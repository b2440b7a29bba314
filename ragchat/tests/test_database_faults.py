"""The database going away: requests get a clear 503 page, nothing half-written, and the
next request after it is back works."""

import json

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from conversations.models import Message, MessageStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_answer_503_with_a_clear_message_while_the_database_is_unreachable(client, alice, unreachable_database):
    client.force_login(alice)
    with unreachable_database():
        response = client.get(reverse("conversations:list"))
        assert response.status_code == 503
        assert "database cannot be reached" in response.content.decode()
        assert response["Retry-After"]
        asked = client.post(reverse("conversations:create"), {"question": "Kettle?", "chat_type": "answer"})
        assert asked.status_code == 503
    # Back: the same client, the same workers, carry on.
    assert client.get(reverse("conversations:list")).status_code == 200
    assert Message.objects.count() == 0


def test_an_answer_survives_the_database_dropping_our_connection_mid_answer(alice_client, knowledge_base):
    """What a database restart does to a client: every connection is cut. The question was stored
    before answering; the answer is saved on a fresh connection when it is complete."""
    response = alice_client.post(
        reverse("conversations:create"),
        {"question": "How often should the bike chain be oiled?", "chat_type": "answer"},
        HTTP_ACCEPT="application/x-ndjson",
    )
    stream = iter(response.streaming_content)
    start = json.loads(next(stream))
    first_piece = json.loads(next(stream))
    assert first_piece["type"] == "delta"

    _terminate(connection.connection.info.backend_pid)
    rest = [json.loads(line) for chunk in stream for line in chunk.decode().splitlines()]

    assert rest[-1]["type"] == "done" and rest[-1]["status"] == "answered"
    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.ANSWERED and "300 kilometres" in message.answer
    assert message.sources.count() == len(message.context_used) > 0
    assert alice_client.get(reverse("conversations:detail", args=[message.conversation_id])).status_code == 200


def _terminate(backend_pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
