"""Load test: N users chatting at once with a running ragchat server, then a database check.

What is measured
    Each simulated user logs in with its own cookie jar (httpx.AsyncClient), then, until the
    deadline, asks a question with ``Accept: application/x-ndjson`` (the browser's streaming
    request), reads the streamed answer, waits ``--think`` seconds and asks the next one.
    Questions alternate between a new conversation (POST /conversations/new/) and a follow-up
    in the conversation just started (POST /conversations/<id>/ask/), so half are follow-ups.
    Each question is one of ten about the documents in sample_docs/, made unique with a tag
    such as " (load 07-3)" (user 07, its 3rd question).

    For every answered request: the time to the first ``delta`` event (TTFT) and to the ``done``
    event (full answer), from just before the POST is sent; p50/p95 by nearest rank over the
    answered requests. Failures are counted by kind: an HTTP error status (a 429 is the server's
    rate limit), a ``done`` event whose status is "failed", a timeout (``--timeout`` for the
    whole request), a connection error, or a malformed stream. Throughput is finished requests
    per second of wall time, from the first question until the last answer in flight ended.

    No question is sent after the deadline (``--duration`` seconds after the first one); answers
    still in flight then are awaited. Logging in happens before the clock starts, and so do a
    few untimed warm-up questions (``--warmup``), so that the workers have loaded the embedding
    model before anything is timed.

    Afterwards the database is checked through the Django ORM: every question sent must be
    stored exactly once (as a conversations.Message of that user's conversations), answered,
    with a non-empty answer.

Users
    The script runs Django in-process to create (or reset) the users loadtest-01 … loadtest-NN
    with a fresh random password, and deletes their old conversations first, so every run starts
    clean. It must therefore see the same database as the server: run both from the project
    folder with the same environment (DATABASE_URL or EMBEDDED_PGDATA, or neither).

How to run
    Start the server first, with the extractive default (no CHAT_MODEL) and without the per-user
    question rate limit, which a simulated user with a 1 s think time would otherwise hit.
    gunicorn.conf.py gives uvicorn workers that load the embedding model before serving:

        cd path/to/ragchat   # the project folder
        DEBUG=true ASK_RATE_LIMIT=0 .venv/bin/gunicorn -c gunicorn.conf.py \\
            --bind 127.0.0.1:8300

    then, in a second terminal:

        DEBUG=true .venv/bin/python benchmarks/load_test.py --url http://127.0.0.1:8300 \\
            [--users 50] [--duration 120] [--think 1] [--timeout 120] [--json]

    Progress goes to stderr every 10 s; the summary (or JSON with --json) to stdout. The exit
    status is 0 only when every request was answered and the database check is clean.
    Only loopback addresses are accepted: this is a tool for your own machine.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import math
import os
import re
import secrets
import sys
import time
import uuid
from collections import Counter, defaultdict
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

SIGN_INS_AT_ONCE = 4

REPO_ROOT = Path(__file__).resolve().parent.parent
PROGRESS_EVERY = 10.0  # seconds between progress lines on stderr
SETUP_TIMEOUT = 60.0  # seconds for logging in: the server's password hashing is slow on purpose
USER_PREFIX = "loadtest-"

# About the documents in sample_docs/ (make run imports them into the "default" collection).
QUESTIONS = [
    "How do I start ragchat for the first time with make run?",
    "Which file types can import_documents read?",
    "What happens when I import a file that has not changed?",
    "How are documents split into chunks, and how large is a chunk?",
    "What are collections and how do I import into one?",
    "How do I choose between the Answer, Explain step by step and Summarize styles?",
    "Which embedding model does ragchat use and does it need a GPU?",
    "How are the vector search and the keyword search combined?",
    "What does ANSWER_MIN_SIMILARITY do?",
    "What can staff users see and filter in the admin message list?",
]


@dataclass
class Options:
    url: str
    users: int
    duration: float
    think: float
    timeout: float
    warmup: int
    json: bool


@dataclass
class Session:
    """One simulated user: its name, number and logged-in client."""

    username: str
    number: int
    client: httpx.AsyncClient
    sends_submission_id: bool = False


@dataclass
class Outcome:
    """What happened to one question."""

    username: str
    question: str
    follow_up: bool
    conversation_id: int | None = None
    ttft_ms: float | None = None
    full_ms: float | None = None
    error: str | None = None  # None: answered


@dataclass
class Run:
    """Shared state of the timed phase."""

    started: float
    deadline: float
    sent: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.error)


class LoginError(Exception):
    pass


# --- Setting up users (Django ORM, before and after the event loop) ----------------------------


def setup_django() -> None:
    """Load the project's settings, so users and messages can be read and written directly."""
    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
    import django

    django.setup()


def warn_if_chat_model() -> None:
    from django.conf import settings

    if settings.CHAT_MODEL:
        print(f"note: CHAT_MODEL={settings.CHAT_MODEL} here; the test is meant for extractive answers", file=sys.stderr)


def prepare_users(count: int) -> tuple[list[str], str]:
    """Create or reset loadtest-01 … with one new random password; delete their conversations."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from conversations.models import Conversation

    width = max(2, len(str(count)))
    names = [f"{USER_PREFIX}{number:0{width}d}" for number in range(1, count + 1)]
    password = secrets.token_urlsafe(16)
    User = get_user_model()
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    User.objects.bulk_create(User(username=name) for name in names if name not in existing)
    # One hash for all: hashing is deliberately slow, and these are throwaway accounts.
    User.objects.filter(username__in=names).update(password=make_password(password), is_active=True)
    Conversation.objects.filter(owner__username__in=names).delete()
    connection.close()  # nothing is held open while the test runs
    return names, password


def check_database(outcomes: list[Outcome]) -> dict[str, int]:
    """Whether each question sent is stored exactly once, for its user, answered and non-empty."""
    from conversations.models import Message, MessageStatus

    rows = Message.objects.filter(
        conversation__owner__username__in={outcome.username for outcome in outcomes}
    ).values_list("conversation__owner__username", "question", "status", "answer")
    stored: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for username, question, status, answer in rows:
        stored[(username, question)].append((status, answer))
    counts = Counter(sent=len(outcomes), stored_once=0, missing=0, duplicated=0, unanswered=0)
    for outcome in outcomes:
        found = stored.get((outcome.username, outcome.question), [])
        if not found:
            counts["missing"] += 1
        elif len(found) > 1:
            counts["duplicated"] += 1
        else:
            counts["stored_once"] += 1
            status, answer = found[0]
            if status != MessageStatus.ANSWERED or not answer.strip():
                counts["unanswered"] += 1
    return dict(counts)


# --- One user's requests --------------------------------------------------------------------


def csrf_headers(session: Session) -> dict[str, str]:
    base = str(session.client.base_url).rstrip("/")
    return {"X-CSRFToken": session.client.cookies.get("csrftoken", ""), "Referer": f"{base}/"}


async def log_in(session: Session, password: str) -> None:
    """Log in through the login form, then read the question form once."""
    page = await session.client.get("/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or token is None:
        raise LoginError(f"GET /accounts/login/ answered {page.status_code} without a login form.")
    response = await session.client.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": session.username, "password": password},
        headers=csrf_headers(session),
    )
    if response.status_code != 302:
        raise LoginError(f"Logging in as {session.username} answered {response.status_code}, not a redirect.")
    # Newer versions of the form carry a one-time id so that a resubmission is stored once.
    form = await session.client.get("/")
    session.sends_submission_id = 'name="submission_id"' in form.text


def question_for(session: Session, asked: int) -> str:
    """A question from the list, made unique: "… (load 07-3)" is user 07's 3rd question."""
    base = QUESTIONS[(session.number + asked) % len(QUESTIONS)]
    return f"{base} (load {session.number:02d}-{asked + 1})"


def conversation_id_from(url: str) -> int | None:
    match = re.search(r"/conversations/(\d+)/", url)
    return int(match.group(1)) if match else None


async def read_events(response: httpx.Response, outcome: Outcome, started: float) -> None:
    """Read the NDJSON stream into ``outcome``: start, deltas, then done."""
    async for line in response.aiter_lines():
        if not line.strip():
            continue
        event = json.loads(line)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if event["type"] == "start":
            outcome.conversation_id = conversation_id_from(event["url"])
        elif event["type"] == "delta" and outcome.ttft_ms is None:
            outcome.ttft_ms = elapsed_ms
        elif event["type"] == "done":
            outcome.full_ms = elapsed_ms
            if event["status"] != "answered":
                outcome.error = f"answer {event['status']}"
            return
    outcome.error = "stream ended before done"


async def ask(session: Session, question: str, conversation_id: int | None, timeout: float) -> Outcome:
    """Ask one question and read its streamed answer; every failure ends up in ``outcome.error``."""
    outcome = Outcome(session.username, question, follow_up=conversation_id is not None)
    path = f"/conversations/{conversation_id}/ask/" if conversation_id else "/conversations/new/"
    data = {"question": question, "chat_type": "answer", "csrfmiddlewaretoken": csrf_headers(session)["X-CSRFToken"]}
    if session.sends_submission_id:
        data["submission_id"] = uuid.uuid4().hex
    headers = {"Accept": "application/x-ndjson", **csrf_headers(session)}
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with session.client.stream("POST", path, data=data, headers=headers, timeout=timeout) as response:
                if response.status_code != 200:
                    outcome.error = f"HTTP {response.status_code}"
                elif "ndjson" not in response.headers.get("Content-Type", ""):
                    outcome.error = "not a stream"
                else:
                    await read_events(response, outcome, started)
    except (TimeoutError, httpx.TimeoutException):
        outcome.error = "timeout"
    except httpx.TransportError as exc:
        outcome.error = f"connection error ({type(exc).__name__})"
    except (ValueError, KeyError):  # a line that is not JSON, or an event without its fields
        outcome.error = "malformed stream"
    return outcome


async def chat(session: Session, run: Run, options: Options) -> None:
    """Ask, read, think, repeat until the deadline: new conversation, follow-up, new, …"""
    # Spread the users' first questions over one think time instead of all at t=0.
    await asyncio.sleep(options.think * (session.number - 1) / options.users)
    asked, conversation_id = 0, None
    while time.monotonic() < run.deadline:
        follow_up = conversation_id if asked % 2 == 1 else None
        run.sent += 1
        outcome = await ask(session, question_for(session, asked), follow_up, options.timeout)
        run.outcomes.append(outcome)
        conversation_id = outcome.conversation_id
        asked += 1
        await asyncio.sleep(max(0.0, min(options.think, run.deadline - time.monotonic())))


async def report_progress(run: Run) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        elapsed = time.monotonic() - run.started
        in_flight = run.sent - len(run.outcomes)
        print(
            f"[{elapsed:5.0f} s] sent {run.sent}, done {len(run.outcomes)}, errors {run.errors}, in flight {in_flight}",
            file=sys.stderr,
        )


# --- The whole run ---------------------------------------------------------------------------


def new_client(options: Options) -> httpx.AsyncClient:
    # trust_env=False: a loopback server must not be reached through an HTTP(S)_PROXY.
    return httpx.AsyncClient(base_url=options.url, timeout=SETUP_TIMEOUT, trust_env=False)


async def warm_up(session: Session, options: Options) -> float:
    """Untimed questions, sent at once so that each worker loads the embedding model."""
    started = time.monotonic()
    questions = [f"{QUESTIONS[n % len(QUESTIONS)]} (warm-up {n + 1})" for n in range(options.warmup)]
    outcomes = await asyncio.gather(*(ask(session, q, None, options.timeout) for q in questions))
    failed = [outcome.error for outcome in outcomes if outcome.error]
    if failed:
        print(f"warning: {len(failed)} warm-up question(s) failed: {', '.join(failed)}", file=sys.stderr)
    return time.monotonic() - started


async def run_load(options: Options, names: list[str], password: str) -> tuple[Run, float]:
    """Log everyone in, warm up, then let the users chat until the deadline; return the run and its wall time."""
    async with AsyncExitStack() as stack:
        sessions = [
            Session(name, number, await stack.enter_async_context(new_client(options)))
            for number, name in enumerate(names, start=1)
        ]
        # Signing in is set-up, not the load measured: each hashes a password (about a CPU-second
        # here), so a few at a time, or hundreds at once would be the test.
        signing_in = asyncio.Semaphore(SIGN_INS_AT_ONCE)

        async def sign_in(session: Session) -> None:
            async with signing_in:
                await log_in(session, password)

        await asyncio.gather(*(sign_in(session) for session in sessions))
        if options.warmup:
            took = await warm_up(sessions[0], options)
            print(f"warm-up: {options.warmup} question(s) in {took:.1f} s", file=sys.stderr)
        started = time.monotonic()
        run = Run(started=started, deadline=started + options.duration)
        progress = asyncio.create_task(report_progress(run))
        try:
            await asyncio.gather(*(chat(session, run, options) for session in sessions))
        finally:
            progress.cancel()
        return run, time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summarize(options: Options, run: Run, elapsed: float, db_check: dict[str, int]) -> dict:
    answered = [outcome for outcome in run.outcomes if not outcome.error]
    ttft = [outcome.ttft_ms for outcome in answered if outcome.ttft_ms is not None]
    full = [outcome.full_ms for outcome in answered]
    db_ok = db_check["stored_once"] == db_check["sent"] and not db_check["unanswered"]
    return {
        "url": options.url,
        "users": options.users,
        "duration_s": options.duration,
        "elapsed_s": round(elapsed, 1),
        "think_s": options.think,
        "timeout_s": options.timeout,
        "requests": len(run.outcomes),
        "follow_ups": sum(1 for outcome in run.outcomes if outcome.follow_up),
        "ok": len(answered),
        "errors": run.errors,
        "error_kinds": dict(Counter(outcome.error for outcome in run.outcomes if outcome.error).most_common()),
        "throughput_rps": round(len(run.outcomes) / elapsed, 2) if elapsed else None,
        "ttft_ms": {"p50": _ms(percentile(ttft, 0.5)), "p95": _ms(percentile(ttft, 0.95))},
        "full_answer_ms": {"p50": _ms(percentile(full, 0.5)), "p95": _ms(percentile(full, 0.95))},
        "db_check": {**db_check, "ok": db_ok},
    }


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)


def print_table(summary: dict) -> None:
    ttft, full, db = summary["ttft_ms"], summary["full_answer_ms"], summary["db_check"]
    kinds = ", ".join(f"{kind}: {count}" for kind, count in summary["error_kinds"].items())
    rows = [
        ("server", summary["url"]),
        ("users", summary["users"]),
        (
            "duration",
            f"{summary['duration_s']:g} s (wall time {summary['elapsed_s']} s, think {summary['think_s']:g} s)",
        ),
        ("requests", f"{summary['requests']} ({summary['follow_ups']} follow-ups)"),
        ("answered ok", summary["ok"]),
        ("errors", f"{summary['errors']}" + (f" ({kinds})" if kinds else "")),
        ("throughput", f"{summary['throughput_rps']} req/s"),
        ("first piece (TTFT)", f"p50 {ttft['p50']} ms   p95 {ttft['p95']} ms"),
        ("full answer", f"p50 {full['p50']} ms   p95 {full['p95']} ms"),
        (
            "DB check",
            f"{db['sent']} sent, {db['stored_once']} stored once, {db['missing']} missing, "
            f"{db['duplicated']} duplicated, {db['unanswered']} unanswered: {'OK' if db['ok'] else 'FAILED'}",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    if any(kind == "HTTP 429" for kind in summary["error_kinds"]):
        print("The server rate-limited questions: start it with ASK_RATE_LIMIT=0 to measure capacity.")


def loopback_url(value: str) -> str:
    """argparse type: an http(s) URL on this machine."""
    host = urlsplit(value).hostname or ""
    try:
        is_loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        raise argparse.ArgumentTypeError(f"{value!r} is not a loopback address (127.0.0.1, ::1 or localhost)")
    return value.rstrip("/")


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--url",
        type=loopback_url,
        default="http://127.0.0.1:8300",
        help="The server (loopback only). Default: %(default)s.",
    )
    parser.add_argument("--users", type=int, default=50, help="Concurrent simulated users. Default: %(default)s.")
    parser.add_argument(
        "--duration", type=float, default=120, help="Seconds during which questions are sent. Default: %(default)s."
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="Seconds a user waits between an answer and its next question. Default: %(default)s.",
    )
    parser.add_argument(
        "--timeout", type=float, default=120, help="Seconds one request may take in all. Default: %(default)s."
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=4,
        help="Untimed questions sent at once before the clock starts, so that "
        "every worker has loaded the embedding model (0: none). Default: %(default)s.",
    )
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON instead of a table.")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or args.think < 0 or args.timeout <= 0 or args.warmup < 0:
        parser.error("--users, --duration and --timeout must be positive; --think and --warmup not negative.")
    return Options(**vars(args))


def main() -> int:
    options = parse_args()
    setup_django()
    warn_if_chat_model()
    names, password = prepare_users(options.users)
    print(f"{len(names)} users ready ({names[0]} … {names[-1]}), old conversations deleted", file=sys.stderr)
    try:
        run, elapsed = asyncio.run(run_load(options, names, password))
    except (LoginError, httpx.HTTPError) as exc:
        raise SystemExit(f"{exc or type(exc).__name__}\nIs the server running at {options.url}? See --help.") from exc
    summary = summarize(options, run, elapsed, check_database(run.outcomes))
    if options.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    return 0 if summary["errors"] == 0 and summary["db_check"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
