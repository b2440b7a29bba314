"""The database going away: requests get a clear 503 page, nothing half-written, and the
next request after it is back works."""

import json

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from conftest import STREAM, ask, read_events
from conversations import answering, views
from conversations.models import Message, MessageStatus
from ragchat.tests.conftest import forget_connections

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_cut_connection_afterwards():
    yield
    forget_connections()


def test_pages_answer_503_with_a_clear_message_while_the_database_is_unreachable(client, alice, unreachable_database):
    client.force_login(alice)
    with unreachable_database():
        response = client.get(reverse("conversations:list"))
        assert response.status_code == 503
        assert "database cannot be reached" in response.content.decode()
        assert response["Retry-After"]
        asked = ask(client, "Kettle?")
        assert asked.status_code == 503
    # Back: the same client, the same workers, carry on.
    assert client.get(reverse("conversations:list")).status_code == 200
    assert Message.objects.count() == 0


def test_an_answer_survives_the_database_dropping_our_connection_mid_answer(alice_client, knowledge_base):
    """What a database restart does to a client: every connection is cut. The question was stored
    before answering; the answer is saved on a fresh connection when it is complete."""
    stream = iter(ask(alice_client, "How often should the bike chain be oiled?", **STREAM).streaming_content)
    start = json.loads(next(stream))
    first_piece = json.loads(next(stream))
    assert first_piece["type"] == "delta"

    _terminate(connection.connection.info.backend_pid)
    rest = read_events(stream)

    assert rest[-1]["type"] == "done" and rest[-1]["status"] == "answered"
    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.ANSWERED and "300 kilometres" in message.answer
    assert message.sources.count() == len(message.context_used) > 0
    assert alice_client.get(reverse("conversations:detail", args=[message.conversation_id])).status_code == 200


def _terminate(backend_pid: int) -> None:
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def test_an_answer_in_flight_is_recorded_once_the_restarted_database_is_back(
    alice_client, knowledge_base, openai_stub, database_server
):
    """A real restart of the server (a fast shutdown, then a start) in the middle of a stream."""
    openai_stub.reply = "Prune roses in late winter, just above an outward bud [1]."
    stream = iter(ask(alice_client, "When to prune roses?", **STREAM).streaming_content)
    start = json.loads(next(stream))
    assert json.loads(next(stream))["type"] == "delta"

    database_server.stop()
    back = database_server.start_after(2)
    events = read_events(stream)  # the rest of the answer; saving it waits for the database
    back.join()

    assert events[-1]["type"] == "done" and events[-1]["status"] == "answered"
    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.ANSWERED and message.answer == openai_stub.reply
    assert message.sources.count() == len(message.context_used) > 0


def test_a_database_away_for_too_long_ends_the_stream_with_an_error_event(
    alice_client, knowledge_base, openai_stub, database_server, monkeypatch
):
    monkeypatch.setattr(answering, "SAVE_RETRY_WAITS", (0.1, 0.2))
    openai_stub.reply = "Prune roses in late winter [1]."
    stream = iter(ask(alice_client, "When to prune roses?", **STREAM).streaming_content)
    start = json.loads(next(stream))
    next(stream)

    database_server.stop()
    events = read_events(stream)
    database_server.start()
    # The pool retries a lost server with growing pauses (psycopg_pool's backoff), so after this long
    # an outage its next try may be seconds away; a fresh pool reads the outcome now.
    connection.close_pool()

    assert events[-1] == {"type": "error", "text": views.UNRECORDED}
    message = Message.objects.get(pk=start["message_id"])
    assert message.status == MessageStatus.PENDING  # the question is kept; it shows as interrupted once stalled
