"""Serve the app and run a job worker beside it, as one command: what `make run` starts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Seconds the two get to finish what they are doing once asked to stop (gunicorn's own default).
STOP_SECONDS = 30
POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Run the web server (gunicorn with gunicorn.conf.py: uvicorn workers serving ragchat.asgi) and a job "
        "worker (manage.py procrastinate worker) together. Ctrl+C (or SIGTERM) stops both, each finishing "
        "what it is doing. If either "
        "stops by itself, the other is stopped too and the command says which one stopped and exits with "
        "status 1, so a dead worker never goes unnoticed. In production run them as separate services "
        "instead (docker-compose.yml: web and worker)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", help="Address for gunicorn, host:port (default: GUNICORN_BIND or 127.0.0.1:8000)."
        )

    def handle(self, *args, bind: str | None, **options):
        environment = {**os.environ, **({"GUNICORN_BIND": bind} if bind else {})}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        processes = {
            "web server": _start([gunicorn, "-c", "gunicorn.conf.py", "ragchat.asgi:application"], environment),
            "job worker": _start([sys.executable, "manage.py", "procrastinate", "worker"], environment),
        }
        # Ctrl+C (SIGINT) or SIGTERM reach this process alone (the children have sessions of their
        # own), and each child is asked to stop once: a second signal would cut the job worker's file short.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _raise_stop)
        try:
            stopped = _wait_for_either(processes)
        except _Stop:
            self.stderr.write("Stopping the web server and the job worker…")
            _stop(processes)
            return
        name, status = stopped
        self.stderr.write(self.style.ERROR(f"The {name} stopped (exit status {status}); stopping the other one."))
        _stop(processes)
        raise CommandError(f"The {name} stopped by itself; see its messages above.", returncode=1)


class _Stop(Exception):
    """Raised by the signal handler: this command was asked to stop."""


def _raise_stop(signum, frame) -> None:
    raise _Stop(signum)


def _start(command: list[str], environment: dict) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, start_new_session=True)


def _wait_for_either(processes: dict[str, subprocess.Popen]) -> tuple[str, int]:
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                return name, process.returncode
        time.sleep(POLL_SECONDS)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
