"""Real worker processes for the tests: `manage.py procrastinate worker`, as `make worker` runs it,
against the test database and the test's storage folder (worker_settings.py).

Tests that use them need committed rows (``transactional_db``): the worker is another process.

A file can hold its worker still, deterministically and without any hook in the code: block()
replaces its stored bytes by a named pipe (FIFO), whose opening waits until the test feeds it the
bytes. The worker is then inside that file's transaction, holding its row lock (is_locked()).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection

from documents.models import ImportFile

# Generous: a worker on a busy 2-core machine takes seconds to load torch and the model.
WAIT_SECONDS = 180
# Seconds of silence after which a worker counts as dead; short, so recovery tests do not wait long.
STALLED_AFTER = 2


class Worker:
    def __init__(self, name: str, log_folder: Path, **env: str):
        self.name = name
        self.log = log_folder / f"worker-{name}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "documents.tests.worker_settings",
            "TEST_WORKER_DATABASE": connection.settings_dict["NAME"],
            "TEST_WORKER_MEDIA_ROOT": settings.STORAGES["default"]["OPTIONS"]["location"],
            "JOB_STALLED_AFTER": str(STALLED_AFTER),
            "LOG_FORMAT": "plain",
            **env,
        }
        command = [sys.executable, "manage.py", "procrastinate", "worker", "--name", name]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no handler runs, no transaction is committed, the connection just drops."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT_SECONDS)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # procrastinate stops after the task at hand
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_for(condition: Callable[[], bool], what: str, workers: list[Worker] = ()) -> None:
    """Poll ``condition`` until it holds; fail after WAIT_SECONDS, with the workers' logs."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.name} ---\n{w.output()[-4000:]}" for w in workers)
            raise AssertionError(f"Gave up waiting for {what}.\n{logs}")
        for worker in workers:
            if worker.process.poll() is not None and worker.process.returncode != -signal.SIGKILL:
                raise AssertionError(f"Worker {worker.name} exited ({worker.process.returncode}):\n{worker.output()}")
        time.sleep(0.2)


def stored_path(file: ImportFile) -> Path:
    return Path(default_storage.path(file.upload))


def block(file: ImportFile) -> Path:
    """Replace ``file``'s stored bytes by a named pipe: the worker that opens it waits for feed()."""
    path = stored_path(file)
    path.unlink()
    os.mkfifo(path)
    return path


def feed(pipe: Path, content: str) -> None:
    with pipe.open("wb") as writer:  # opens once the worker has it open for reading
        writer.write(content.encode())


def is_locked(file: ImportFile) -> bool:
    """Whether some worker holds ``file``'s row lock, i.e. is importing it right now.

    Read without locking: the row's xmax names the transaction that locked it, still running while
    a backend has it as its own. Taking the lock to see (FOR UPDATE NOWAIT) held the row for an
    instant, in which a worker's SKIP LOCKED passed the file over and imported the next one first
    (a test failed so).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT FROM {ImportFile._meta.db_table} AS f JOIN pg_stat_activity AS a"
            " ON a.backend_xid = f.xmax WHERE f.id = %s)",
            [file.pk],
        )
        return cursor.fetchone()[0]
