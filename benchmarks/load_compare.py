"""The load test before and after, in one run: an older commit served beside this checkout.

What it does
    Checks out ``--compare-with REV`` (default e828ff4, main before the ASGI server) in a
    temporary git worktree, then for each of the two checkouts in turn (the old one first):
    collects its static files, starts its production server with its own gunicorn.conf.py on a
    free port (production settings: DEBUG off, a random SECRET_KEY, plain HTTP on loopback, the
    question rate limit off, extractive answers), runs benchmarks/load_test.py against it for
    each ``--load USERSxSECONDS`` (default 50x120 and 200x60), and stops it. The servers never
    run at the same time, so neither takes the other's cores. Both use this checkout's .venv,
    its ONNX export and the database of this environment (DATABASE_URL or EMBEDDED_PGDATA, as
    for `make run`; its schema must suit both commits, so migrate with the newer one).

    An old commit whose gunicorn.conf.py names no app (before the ASGI server) is served as
    ``ragchat.wsgi``; a newer one serves what its configuration names.

What it reports
    For each load, the two summaries side by side: requests, errors, answers per second, p50/p95
    of the first streamed piece and of the full answer, and the database check (every question
    stored exactly once, answered). The exit status is 0 only if every run was clean.

    DEBUG=true .venv/bin/python benchmarks/load_compare.py [--compare-with e828ff4] \\
        [--load 50x120 --load 200x60] [--json]

DEBUG=true only spares this script a SECRET_KEY (it reads and writes the database through Django
to create the test users); the servers always run with DEBUG off.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stream_concurrency import free_port, wait_until_ready  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = Path(sys.executable)


def parse_load(value: str) -> tuple[int, float]:
    """argparse type: USERSxSECONDS, such as 50x120."""
    try:
        users, seconds = value.lower().split("x")
        load = int(users), float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not USERSxSECONDS, such as 50x120") from None
    if load[0] < 1 or load[1] <= 0:
        raise argparse.ArgumentTypeError(f"{value!r}: users and seconds must be positive")
    return load


@contextmanager
def old_checkout(revision: str):
    """A temporary worktree of ``revision``, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="ragchat-compare-")) / "checkout"
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), revision], cwd=REPO_ROOT, check=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=REPO_ROOT, check=False)
        folder.parent.rmdir()


def server_environment(port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",  # plain HTTP on loopback: the test's cookies must be sent back
        "ASK_RATE_LIMIT": "0",
        "CHAT_MODEL": "",
        # Both checkouts embed with this checkout's export (an older one would export its own for minutes).
        "EMBEDDING_ONNX_DIR": os.environ.get("EMBEDDING_ONNX_DIR", str(REPO_ROOT / ".onnx-model")),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "/dev/null",  # an older gunicorn.conf.py takes no empty value
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def serving(checkout: Path):
    """The checkout's production server on a free port; yields its URL."""
    port = free_port()
    environment = server_environment(port)
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=checkout, env=environment, check=True
    )
    app = [] if "wsgi_app" in (checkout / "gunicorn.conf.py").read_text() else ["ragchat.wsgi"]
    command = [PYTHON.with_name("gunicorn"), "-c", "gunicorn.conf.py", *app]
    server = subprocess.Popen(command, cwd=checkout, env=environment)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", server, f"server of {checkout}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=120)


def load_test(url: str, users: int, seconds: float) -> dict | None:
    """load_test.py's summary, or None (its error printed) if it could not run to the end."""
    command = [PYTHON, "benchmarks/load_test.py", "--url", url, "--users", str(users), "--duration", str(seconds)]
    done = subprocess.run([*command, "--json"], cwd=REPO_ROOT, capture_output=True, text=True)
    if not done.stdout.strip().startswith("{"):
        print(f"load_test.py failed (status {done.returncode}):\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout)


def print_table(revision: str, results: dict[str, dict[str, dict]]) -> None:
    names = [f"before ({revision})", "after (this checkout)"]
    for load, pair in results.items():
        print(f"\n{load}")
        rows = [
            ("requests", lambda s: f"{s['requests']}"),
            ("errors", lambda s: f"{s['errors']} {s['error_kinds'] or ''}".strip()),
            ("answers/s", lambda s: f"{s['throughput_rps']}"),
            ("first piece p50/p95", lambda s: f"{s['ttft_ms']['p50']} / {s['ttft_ms']['p95']} ms"),
            ("full answer p50/p95", lambda s: f"{s['full_answer_ms']['p50']} / {s['full_answer_ms']['p95']} ms"),
            ("stored once, answered", lambda s: f"{s['db_check']['stored_once']}/{s['db_check']['sent']}, "
                                                f"{s['db_check']['unanswered']} unanswered"),
        ]  # fmt: skip
        print(f"{'':24}" + "".join(f"{name:>30}" for name in names))
        for label, cell in rows:
            cells = (cell(pair[name]) if pair[name] else "load_test.py failed" for name in names)
            print(f"{label:24}" + "".join(f"{text:>30}" for text in cells))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--compare-with", default="e828ff4", metavar="REV", help="The older commit. Default: %(default)s."
    )
    parser.add_argument(
        "--load",
        type=parse_load,
        action="append",
        metavar="USERSxSECONDS",
        help="A load to run on both, repeatable. Default: 50x120 and 200x60.",
    )
    parser.add_argument("--json", action="store_true", help="Print every summary as JSON instead of tables.")
    options = parser.parse_args()
    loads = options.load or [(50, 120.0), (200, 60.0)]
    results: dict[str, dict[str, dict]] = {f"{users} users, {seconds:g} s": {} for users, seconds in loads}
    with old_checkout(options.compare_with) as folder:
        for name, checkout in ((f"before ({options.compare_with})", folder), ("after (this checkout)", REPO_ROOT)):
            for users, seconds in loads:
                # A fresh server for each load: answers a saturated server still owes the last
                # load's users must not fall on the next one's.
                with serving(checkout) as url:
                    print(f"{name}: {users} users for {seconds:g} s", file=sys.stderr)
                    results[f"{users} users, {seconds:g} s"][name] = load_test(url, users, seconds)
    if options.json:
        print(json.dumps(results, indent=2))
    else:
        print_table(options.compare_with, results)
    clean = all(s and s["errors"] == 0 and s["db_check"]["ok"] for pair in results.values() for s in pair.values())
    return 0 if clean else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except httpx.HTTPError as exc:
        sys.exit(f"A server did not answer: {exc}")
