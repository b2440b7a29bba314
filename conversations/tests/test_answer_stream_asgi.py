"""The streamed answer under ASGI (views._aanswer_events, fed by answering.astream_answer): the same
events as under WSGI, sent as they come, and the partial answer kept when the client goes away.

Django's async test client runs the ASGI handler in this process; the disconnect is tested against
a real uvicorn server started as a subprocess on the test database, as production runs it.
"""

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse

from conftest import STREAM, make_user
from conversations import extractive
from conversations.models import Message, MessageStatus
from ragchat.tests.browser import BROWSER_TESTS, log_in
from ragchat.tests.test_serve import free_port

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 120


async def ask_async(user, question: str, **headers) -> tuple[int, list[dict], dict]:
    """Ask as the page's form does through Django's ASGI handler: (status, events, response headers)."""
    client = AsyncClient()
    await client.aforce_login(user)
    form = {"question": question, "chat_type": "answer"}
    response = await client.post(reverse("conversations:create"), form, headers=headers)
    if not response.streaming:
        return response.status_code, [], dict(response.headers)
    assert response.is_async  # sent piece by piece, not gathered first
    chunks = [chunk async for chunk in response.streaming_content]
    events = [json.loads(line) for chunk in chunks for line in chunk.decode().splitlines()]
    return response.status_code, events, dict(response.headers)


def test_the_answer_streams_as_events_under_asgi_and_is_stored(alice, knowledge_base):
    status, events, headers = asyncio.run(
        ask_async(alice, "How often should the bike chain be oiled?", accept=STREAM["HTTP_ACCEPT"])
    )

    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    assert [event["type"] for event in events] == ["start", "delta", "delta", "delta", "done"]
    deltas = [event["text"] for event in events if event["type"] == "delta"]
    assert deltas[0] == extractive.NO_MODEL_NOTICE
    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.ANSWERED and message.answer == "".join(deltas)
    assert events[-1]["status"] == "answered" and "300 kilometres" in events[-1]["html"]


def test_a_model_stream_that_breaks_under_asgi_keeps_what_arrived(alice, knowledge_base, openai_stub):
    openai_stub.reply = "Prune roses in late winter above an outward bud [1]."
    openai_stub.drop_after = 3
    _, events, _ = asyncio.run(ask_async(alice, "When to prune roses?", accept=STREAM["HTTP_ACCEPT"]))

    message = Message.objects.get(pk=events[0]["message_id"])
    assert message.status == MessageStatus.FAILED and message.answer == "Prune roses in "
    assert events[-1]["status"] == "failed" and "Retry" in events[-1]["html"]


def test_the_form_without_javascript_still_answers_then_redirects_under_asgi(alice, knowledge_base):
    status, _, headers = asyncio.run(ask_async(alice, "When to prune roses?"))

    assert status == 302
    message = Message.objects.get(conversation__owner=alice)
    assert headers["Location"].endswith(f"#message-{message.pk}")
    assert message.status == MessageStatus.ANSWERED and "prune" in message.answer.lower()


@pytest.fixture
def asgi_server(openai_stub, tmp_path):
    """uvicorn serving ragchat.asgi on the test database, with the stub as its chat model."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "conversations.tests.asgi_settings",
        "TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
        "TEST_WORKER_MEDIA_ROOT": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CACHE_URL": "locmemcache://",
        "CHAT_MODEL": "openai:gpt-test",
        "CHAT_MODEL_BASE_URL": openai_stub.base_url,
        "CHAT_MODEL_MAX_RETRIES": "0",
        "OPENAI_API_KEY": "test-key-not-secret",
    }
    command = [sys.executable, "-m", "uvicorn", "ragchat.asgi:application", "--port", str(port)]
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=output)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not _answers(base_url + "/healthz"):
            assert server.poll() is None, f"uvicorn exited: {log.read_text()}"
            assert time.monotonic() < deadline, "gave up waiting for uvicorn"
            time.sleep(0.3)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def signed_in_client(client, base_url: str) -> httpx.Client:
    """An HTTP client with the test client's session and a CSRF cookie and header of its own."""
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret, as Django accepts
    cookies = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": csrf}
    return httpx.Client(base_url=base_url, cookies=cookies, headers={"X-CSRFToken": csrf}, timeout=30)


def test_a_client_that_disconnects_from_the_asgi_server_keeps_the_partial_answer(
    alice_client, knowledge_base, openai_stub, asgi_server
):
    openai_stub.reply = "one two three four"
    openai_stub.token_delay = 30  # the second piece never comes before the client leaves
    form = {"question": "When to prune roses?", "chat_type": "answer"}
    with (
        signed_in_client(alice_client, asgi_server) as http,
        http.stream(
            "POST", reverse("conversations:create"), data=form, headers={"Accept": "application/x-ndjson"}
        ) as response,
    ):
        lines = response.iter_lines()
        start = json.loads(next(lines))
        assert json.loads(next(lines)) == {"type": "delta", "text": "one "}
    # The connection is closed: the server cancels the answer and records what it had.
    message = Message.objects.get(pk=start["message_id"])
    deadline = time.monotonic() + WAIT_SECONDS
    while message.status == MessageStatus.PENDING and time.monotonic() < deadline:
        time.sleep(0.2)
        message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.error == "The answer was stopped before it was complete."
    assert message.answer == "one "


@BROWSER_TESTS[0]  # skipped where Chromium is missing
def test_the_page_streams_from_the_asgi_server_and_stop_keeps_the_partial_answer(
    page, knowledge_base, openai_stub, asgi_server
):
    from playwright.sync_api import expect

    make_user("alice")
    openai_stub.reply = " ".join(f"word{n}" for n in range(60))
    openai_stub.token_delay = 0.2
    server = type("Server", (), {"url": asgi_server})
    log_in(page, server, "alice")
    box = page.get_by_label("Question")
    box.fill("When should I prune my roses?")
    box.press("Enter")
    expect(page.locator(".live")).to_contain_text("word2")  # pieces arrive while the model writes
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped. What arrived so far is kept.").wait_for()

    page.get_by_text("The answer is incomplete").wait_for(timeout=15_000)
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and message.answer.startswith("word0 word1 word2")
    assert "word59" not in message.answer
