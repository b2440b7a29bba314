"""ragchat served as in production, under uvicorn (ragchat.asgi: Django and the MCP server), on
the test database; API tokens to call it with; and helpers for the official clients."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from conftest import write_files
from documents.collections import collection_get_or_create
from documents.models import Visibility
from documents.services import documents_import
from ragchat.tests.test_serve import answers, free_port

START_SECONDS = 120


@pytest.fixture(scope="session")
def live_ragchat(django_db_setup, tmp_path_factory) -> str:
    """The address of a uvicorn process serving ragchat.asgi on the test database, for the whole run.

    Tests that use it run in transactions (``django_db(transaction=True)``), so it sees their rows.
    The ASGI lifespan is required (``--lifespan on``): the MCP server cannot answer without it.
    """
    port, folder = free_port(), tmp_path_factory.mktemp("live")
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "documents.tests.worker_settings",
        "TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
        "TEST_WORKER_MEDIA_ROOT": str(folder),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CHAT_MODEL": "",  # extractive answers, whatever a developer's .env says
        "ASK_RATE_LIMIT": "0",  # the limit is tested in-process, where a test can set it
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
    }
    command = [sys.executable, "-m", "uvicorn", "ragchat.asgi:application", "--port", str(port), "--lifespan", "on"]
    log = folder / "uvicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=output)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not answers(url):
        assert server.poll() is None, f"uvicorn exited ({server.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"uvicorn did not answer in {START_SECONDS} s:\n{log.read_text()}"
        time.sleep(0.3)


@pytest.fixture
def alices_private(alice, tmp_path) -> str:
    """Alice's private collection "alices", holding her diary; its name."""
    collection_get_or_create(name="alices", title="Alice's notes", owner=alice, visibility=Visibility.PRIVATE)
    write_files(tmp_path / "private", {"diary.txt": "Alice's diary\n\nThe safe's code is 4711, behind the painting."})
    assert not documents_import(paths=[tmp_path / "private"], collection="alices").failed
    return "alices"
