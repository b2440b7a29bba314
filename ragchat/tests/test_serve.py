"""`manage.py serve` (what `make run` starts): the web server and a job worker as one command, and a
worker that dies is not left unnoticed: both stop and the command says which one stopped."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> dict[int, str]:
    """The child processes of ``pid`` and their command lines (Linux's /proc)."""
    found = {}
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        found[int(child)] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def poll(condition, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert process.poll() is None, f"serve exited ({process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.3)


def start_serve(tmp_path) -> tuple[subprocess.Popen, int, Path]:
    """`manage.py serve` on a free port, once its web server answers and its worker has started (and
    so handles SIGTERM: a worker stopped before that simply dies); with its log file."""
    port = free_port()
    environment = {
        **os.environ,
        # The worker tests' settings: the test database and a storage folder of this test.
        "DJANGO_SETTINGS_MODULE": "documents.tests.worker_settings",
        "TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
        "TEST_WORKER_MEDIA_ROOT": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
        "WEB_CONCURRENCY": "1",
    }
    command = [sys.executable, "manage.py", "serve", "--bind", f"127.0.0.1:{port}"]
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        serve = subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=output, stderr=output)
    poll(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "the web server", serve)
    poll(lambda: "Starting worker" in log.read_text(), "the job worker", serve)
    return serve, port, log


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_worker_that_dies_stops_the_web_server_too_and_says_so(tmp_path):
    serve, port, log = start_serve(tmp_path)
    try:
        [worker] = [pid for pid, line in children(serve.pid).items() if "procrastinate worker" in line]

        os.kill(worker, signal.SIGKILL)

        assert serve.wait(timeout=WAIT_SECONDS) == 1
        assert "The job worker stopped (exit status -9); stopping the other one." in log.read_text()
        assert not answers(f"http://127.0.0.1:{port}/healthz")
    finally:
        stop_all(serve)


def test_sigterm_stops_both_and_each_finishes_first(tmp_path):
    serve, port, log = start_serve(tmp_path)
    try:
        both = list(children(serve.pid))

        serve.send_signal(signal.SIGTERM)

        assert serve.wait(timeout=WAIT_SECONDS) == 0
        assert "Stopping the web server and the job worker" in log.read_text()
        assert "Stop requested" in log.read_text()  # the worker's graceful stop, not a kill
        assert len(both) == 2 and not any(running(pid) for pid in both)
    finally:
        stop_all(serve)


def stop_all(serve: subprocess.Popen) -> None:
    """Kill ``serve`` and every process under it: the web server's workers too, which would live on
    without their master (uvicorn workers do not watch for it)."""
    for pid in [serve.pid, *descendants(serve.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    serve.wait()


def descendants(pid: int) -> list[int]:
    try:
        found = list(children(pid))
    except FileNotFoundError:  # it has ended
        return []
    return found + [grandchild for child in found for grandchild in descendants(child)]


def test_serve_explains_itself_with_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command("serve", "--help")
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--bind" in out and "a dead worker never goes unnoticed" in out
