"""Many slow model streams at once through the real server: errors, time to first token, memory, connections.

What it does
    Starts the stub model (benchmarks/stub_openai.py: first token after 0.5 s, then 40 tokens a
    second for 300 tokens) and ragchat's production server as `make run` does (gunicorn with
    gunicorn.conf.py: uvicorn workers, ``--workers`` of them), configured to answer with the stub
    (CHAT_MODEL=openai:stub, CHAT_MODEL_BASE_URL at the stub), with the question rate limit off.
    Then ``--streams`` users each ask one question with the page's streaming request, their
    starts spread evenly over ``--ramp`` seconds, and read the answer to its end.

What it reports
    Errors by kind (an HTTP status, a failed answer, a timeout, a connection error); p50/p95 of
    the time to the first streamed piece of the model's reply (TTFT: from just before the POST
    to the first ``delta`` event) and to the full answer; the most streams open at once; the
    largest resident memory (RSS) and thread count of each web worker during the run, and the
    workers' CPU seconds per answer; the most database connections open and the most running a
    query (pg_stat_activity, client backends of this database, sampled every 0.2 s); and the
    database check: every question stored exactly once, for its user, answered.

Users are created (or reset) as ``streamtest-001`` …, signed in by making their sessions directly
in the database (a login form would spend minutes hashing passwords), with their old
conversations deleted. The script and the server share the database of this environment
(DATABASE_URL or EMBEDDED_PGDATA, as for `make run`): give a scratch EMBEDDED_PGDATA to keep the
test's conversations out of a development database.

    DEBUG=true .venv/bin/python benchmarks/stream_concurrency.py --streams 300 [--ramp 8] [--workers 2] [--json]

The exit status is 0 only with no error and a clean database check.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import REPO_ROOT, Outcome, check_database, percentile, read_events, setup_django  # noqa: E402

USER_PREFIX = "streamtest-"
QUESTION = "How are the vector search and the keyword search combined?"
SAMPLE_EVERY = 0.2  # seconds between samples of memory and database connections
START_TIMEOUT = 180.0  # seconds for the server to load its embedding model and answer /readyz


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"The {what} exited with status {process.returncode} before it was ready.")
        try:
            if httpx.get(url, timeout=2, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"The {what} was not ready after {START_TIMEOUT:g} s ({url}).")


@contextmanager
def servers(options: argparse.Namespace):
    """The stub model and ragchat's gunicorn, started here and stopped at the end; yields (url, gunicorn)."""
    stub_port, port = free_port(), free_port()
    python = Path(sys.executable)
    stub = subprocess.Popen([python, "benchmarks/stub_openai.py", "--port", str(stub_port)], cwd=REPO_ROOT)
    environment = {
        **os.environ,
        "CHAT_MODEL": "openai:stub",
        "CHAT_MODEL_BASE_URL": f"http://127.0.0.1:{stub_port}/v1",
        "OPENAI_API_KEY": "stub-key-not-secret",
        "ASK_RATE_LIMIT": "0",
        "WEB_CONCURRENCY": str(options.workers),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": "",  # hundreds of access lines would cost the CPU being measured
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = subprocess.Popen(
        [python.with_name("gunicorn"), "-c", "gunicorn.conf.py"], cwd=REPO_ROOT, env=environment
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{stub_port}/v1/models", stub, "stub model")
        wait_until_ready(f"http://127.0.0.1:{port}/readyz", gunicorn, "ragchat server")
        yield f"http://127.0.0.1:{port}", gunicorn
    finally:
        for process in (gunicorn, stub):
            process.terminate()
        for process in (gunicorn, stub):
            process.wait(timeout=90)


def prepare_sessions(count: int) -> list[tuple[str, str]]:
    """(username, session key) for ``count`` users, signed in, without conversations."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection

    from conversations.models import Conversation

    names = [f"{USER_PREFIX}{number:03d}" for number in range(1, count + 1)]
    User = get_user_model()
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(User(username=name, password="!") for name in names if name not in existing)
    Conversation.objects.filter(owner__username__in=names).delete()
    sessions = []
    for user in User.objects.filter(username__in=names).order_by("username"):
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        sessions.append((user.username, session.session_key))
    connection.close()
    return sessions


def database_connections() -> tuple[int, int]:
    """Client connections to this database now (pg_stat_activity), not counting this one: (open, running a query)."""
    import psycopg
    from django.db import connection

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as probe:
        return probe.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity "
            "WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()


class Samples:
    """The largest RSS of each gunicorn worker and the most database connections, sampled in a thread."""

    def __init__(self, gunicorn: subprocess.Popen):
        self.master = psutil.Process(gunicorn.pid)
        self.rss_mb: dict[int, float] = {}
        self.cpu_s: dict[int, tuple[float, float]] = {}  # worker: (CPU seconds at its first sample, at its last)
        self.threads: dict[int, int] = {}
        self.connections = (0, 0)  # the most open, the most running a query
        self.running = True

    def sample(self) -> None:
        while self.running:
            for worker in self.master.children():
                try:
                    rss = worker.memory_info().rss / 2**20
                    cpu = sum(worker.cpu_times()[:2])  # user + system
                    threads = worker.num_threads()
                except psutil.NoSuchProcess:
                    continue
                self.rss_mb[worker.pid] = max(self.rss_mb.get(worker.pid, 0.0), rss)
                self.cpu_s[worker.pid] = (self.cpu_s.get(worker.pid, (cpu, cpu))[0], cpu)
                self.threads[worker.pid] = max(self.threads.get(worker.pid, 0), threads)
            now = database_connections()
            self.connections = (max(self.connections[0], now[0]), max(self.connections[1], now[1]))
            time.sleep(SAMPLE_EVERY)


async def one_stream(url: str, username: str, session_key: str, delay: float, state: dict, timeout: float) -> Outcome:
    await asyncio.sleep(delay)
    outcome = Outcome(username, f"{QUESTION} ({username})", follow_up=False)
    csrf = secrets.token_hex(16)  # an unmasked CSRF secret in the cookie and the header, as Django accepts
    cookies = {"sessionid": session_key, "csrftoken": csrf}
    headers = {"Accept": "application/x-ndjson", "X-CSRFToken": csrf, "Referer": url + "/"}
    state["open"] += 1
    state["most_open"] = max(state["most_open"], state["open"])
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(base_url=url, cookies=cookies, timeout=timeout, trust_env=False) as client:
            data = {"question": outcome.question, "chat_type": "answer"}
            async with client.stream("POST", "/conversations/new/", data=data, headers=headers) as response:
                if response.status_code != 200:
                    outcome.error = f"HTTP {response.status_code}"
                else:
                    await read_events(response, outcome, started)
    except httpx.TimeoutException:
        outcome.error = "timeout"
    except httpx.TransportError as exc:
        outcome.error = f"connection error ({type(exc).__name__})"
    except (ValueError, KeyError):
        outcome.error = "malformed stream"
    finally:
        state["open"] -= 1
    return outcome


async def run_streams(url: str, sessions: list[tuple[str, str]], options: argparse.Namespace) -> tuple[list, dict]:
    state = {"open": 0, "most_open": 0}
    step = options.ramp / len(sessions)
    outcomes = await asyncio.gather(
        *(one_stream(url, name, key, n * step, state, options.timeout) for n, (name, key) in enumerate(sessions))
    )
    return list(outcomes), state


def summarize(options, outcomes: list[Outcome], state: dict, samples: Samples, elapsed: float) -> dict:
    answered = [outcome for outcome in outcomes if not outcome.error]
    ttft = [outcome.ttft_ms for outcome in answered if outcome.ttft_ms is not None]
    full = [outcome.full_ms for outcome in answered]
    db_check = check_database(outcomes)
    return {
        "streams": options.streams,
        "ramp_s": options.ramp,
        "workers": options.workers,
        "elapsed_s": round(elapsed, 1),
        "most_open_streams": state["most_open"],
        "ok": len(answered),
        "errors": len(outcomes) - len(answered),
        "error_kinds": dict(Counter(outcome.error for outcome in outcomes if outcome.error).most_common()),
        "ttft_ms": {"p50": _ms(percentile(ttft, 0.5)), "p95": _ms(percentile(ttft, 0.95))},
        "full_answer_ms": {"p50": _ms(percentile(full, 0.5)), "p95": _ms(percentile(full, 0.95))},
        "worker_rss_mb": sorted(round(rss) for rss in samples.rss_mb.values()),
        "worker_threads": sorted(samples.threads.values()),
        "worker_cpu_s_per_answer": round(
            sum(last - first for first, last in samples.cpu_s.values()) / len(outcomes), 3
        ),
        "most_db_connections": {"open": samples.connections[0], "running_a_query": samples.connections[1]},
        "db_check": {**db_check, "ok": db_check["stored_once"] == db_check["sent"] and not db_check["unanswered"]},
    }


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def print_table(summary: dict) -> None:
    ttft, full, db = summary["ttft_ms"], summary["full_answer_ms"], summary["db_check"]
    kinds = ", ".join(f"{kind}: {count}" for kind, count in summary["error_kinds"].items())
    rows = [
        ("streams", f"{summary['streams']} started over {summary['ramp_s']:g} s, "
                    f"at most {summary['most_open_streams']} open at once"),
        ("workers", summary["workers"]),
        ("wall time", f"{summary['elapsed_s']} s"),
        ("answered ok", summary["ok"]),
        ("errors", f"{summary['errors']}" + (f" ({kinds})" if kinds else "")),
        ("first token (TTFT)", f"p50 {ttft['p50']} ms   p95 {ttft['p95']} ms"),
        ("full answer", f"p50 {full['p50']} ms   p95 {full['p95']} ms"),
        ("worker RSS (max)", ", ".join(f"{rss} MB" for rss in summary["worker_rss_mb"])),
        ("worker threads (max)", ", ".join(str(count) for count in summary["worker_threads"])),
        ("worker CPU", f"{summary['worker_cpu_s_per_answer']} s per answer (all workers)"),
        ("DB connections", "at most {open} open (the pools' own), {running_a_query} running a query"
                           .format(**summary["most_db_connections"])),
        ("DB check", f"{db['sent']} sent, {db['stored_once']} stored once, {db['missing']} missing, "
                     f"{db['duplicated']} duplicated, {db['unanswered']} unanswered: {'OK' if db['ok'] else 'FAILED'}"),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=300, help="Streamed answers in all. Default: %(default)s.")
    parser.add_argument(
        "--ramp",
        type=float,
        default=8.0,
        help="Seconds over which their starts are spread (an answer lasts 8 s: 0.5 s, then 300 tokens at "
        "40/s, so the default keeps them all open at once near the end). Default: %(default)s.",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers. Default: %(default)s.")
    parser.add_argument("--timeout", type=float, default=120, help="Seconds one stream may take. Default: %(default)s.")
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON instead of a table.")
    options = parser.parse_args(argv)
    if options.streams < 1 or options.ramp < 0 or options.workers < 1 or options.timeout <= 0:
        parser.error("--streams, --workers and --timeout must be positive, --ramp not negative.")
    return options


def main() -> int:
    import threading

    options = parse_args()
    setup_django()
    sessions = prepare_sessions(options.streams)
    print(f"{len(sessions)} users signed in, old conversations deleted; starting the servers", file=sys.stderr)
    with servers(options) as (url, gunicorn):
        samples = Samples(gunicorn)
        sampler = threading.Thread(target=samples.sample, daemon=True)
        sampler.start()
        started = time.monotonic()
        outcomes, state = asyncio.run(run_streams(url, sessions, options))
        elapsed = time.monotonic() - started
        samples.running = False
        sampler.join()
    summary = summarize(options, outcomes, state, samples, elapsed)
    if options.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    return 0 if summary["errors"] == 0 and summary["db_check"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
