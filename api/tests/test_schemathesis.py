"""schemathesis against the API of a real server (gunicorn, production settings, the test database):
generated requests of every operation, bounded in number, with a token. No answer may be a server
error, and every answer must match the OpenAPI document (status, media type, headers, body).

The server's whole output (its access log and the app's JSON log) must not hold the token."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from api.tokens import token_create
from ragchat.tests.test_serve import answers, free_port, poll

pytestmark = pytest.mark.django_db(transaction=True)
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Enough examples per operation to reach every documented error; small enough for about a minute here.
MAX_EXAMPLES = 12
RUN_TIMEOUT_SECONDS = 300


@pytest.fixture
def live_server_process(tmp_path):
    """gunicorn, as production runs it, on a free port; its output in server.log."""
    port = free_port()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "documents.tests.worker_settings",
        "TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
        "TEST_WORKER_MEDIA_ROOT": str(tmp_path / "media"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_FORMAT": "json",
        "CHAT_MODEL": "",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    log = tmp_path / "server.log"
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]  # the app it names: ragchat.asgi
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=output)
    try:
        poll(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "the web server", server)
        yield f"http://127.0.0.1:{port}", log
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_schemathesis_finds_no_server_error_and_nothing_off_the_schema(live_server_process, alice, knowledge_base):
    url, log = live_server_process
    raw = token_create(user=alice, name="schemathesis")[1]
    command = [str(SCHEMATHESIS), "run", f"{url}/api/openapi.json", "--header", f"Authorization: Bearer {raw}",
               "--checks", CHECKS, "--max-examples", str(MAX_EXAMPLES), "--phases", "examples,coverage,fuzzing",
               "--seed", "17", "--workers", "1", "--request-timeout", "60"]  # fmt: skip

    run = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, cwd=log.parent)

    summary = run.stdout.replace(raw, "<token>")
    print(summary)  # shown with -s: the run's summary
    assert run.returncode == 0, summary[-6000:]
    assert raw not in log.read_text(), "the token was written to the server's log"
    assert '"POST /api/questions' in log.read_text()  # the access log did record the requests
