"""Latency of a non-streamed POST /v1/chat/completions next to `manage.py ask --json`, same questions.

What is measured
    Twenty questions about the documents in sample_docs/ (``--questions`` takes fewer), each asked
    both ways, one after the other, with extractive answers (no chat model), so that what differs
    is the way in, not the model:

    - the OpenAI-compatible endpoint: the wall time of one POST /v1/chat/completions with the
      official ``openai`` client (token check, rate-limit count, storing the conversation,
      answering, the JSON response), from just before the call until the response is read;
    - the ``ask`` command with ``--json --user``, which stores a conversation too: the wall time
      of ``call_command`` in this process (warm: the embedding model is loaded once, as in a
      server's worker). ``--cold`` runs it as its own process instead (``manage.py ask``), which
      adds Python, Django and the embedding model starting on every question.

    For both, the answering pipeline's own time is read from the stored message (``latency_ms``:
    the follow-up rule, retrieval and the extractive answer), so the table shows how much of each
    wall time is the way in. p50 and p95 by nearest rank. One untimed question each way first
    loads the embedding model.

Users and server
    Runs Django in this process: it makes (or reuses) the user ``--user`` (default apibench),
    deletes that user's conversations, and creates an API token that it revokes at the end. With
    no ``--url`` it starts ragchat itself under uvicorn (ragchat.asgi, one worker, on a free
    loopback port, with ASK_RATE_LIMIT=0 and no CHAT_MODEL) and stops it afterwards; with
    ``--url``, start that server yourself the same way, on the same database.

    .venv/bin/python benchmarks/api_latency.py [--questions 20] [--cold] [--json]

    The numbers printed are from whatever machine runs it: on a shared or busy machine, say so.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django() -> None:
    """Django in this process, after the arguments are read (so --help needs no settings)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
    os.environ["CHAT_MODEL"] = ""  # extractive answers in this process too
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the table, not a log line per answer
    import django

    django.setup()


QUESTIONS = [
    "How do I start ragchat for the first time?",
    "How do I log in after make run?",
    "Which file types can I import?",
    "What happens when I import a file that has not changed?",
    "How do I run the tests?",
    "How do I choose an answer style?",
    "What do the numbers in square brackets mean?",
    "How do follow-up questions work?",
    "What happens when nothing relevant is found?",
    "What happens when the model times out?",
    "How long may a question be?",
    "What does the admin site show about messages?",
    "What does each message record?",
    "Can other users read my conversations?",
    "How do I manage logins?",
    "How do I choose a chat model?",
    "How does ragchat answer without a chat model?",
    "Which retrieval settings can I change?",
    "Which embedding model does ragchat use?",
    "How are the keyword search and the vector search combined?",
]
START_SECONDS = 180


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def own_server():
    """ragchat under uvicorn on a free loopback port, for the length of the run."""
    port = free_port()
    environment = {**os.environ, "ASK_RATE_LIMIT": "0", "CHAT_MODEL": "", "ALLOWED_HOSTS": "127.0.0.1",
                   "LOG_LEVEL": "WARNING"}  # fmt: skip
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "ragchat.asgi:application",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=environment)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(f"{url}/healthz"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"The server did not start (exit status {server.poll()}).")
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def ask_api(client, question: str) -> tuple[float, int]:
    """Wall time in ms, and the stored message's answering time."""
    from conversations.models import Message

    started = time.perf_counter()
    completion = client.chat.completions.create(model="ragchat", messages=[{"role": "user", "content": question}])
    wall = (time.perf_counter() - started) * 1000
    if completion.usage is not None:
        raise SystemExit("The server answered with a chat model; start it without CHAT_MODEL.")
    return wall, Message.objects.get(conversation_id=completion.conversation_id).latency_ms


def ask_command(question: str, username: str, cold: bool) -> tuple[float, int]:
    """Wall time in ms of `ask --json --user`, and the answering time it reports."""
    from django.core.management import call_command

    arguments = ["ask", question, "--json", "--user", username]
    started = time.perf_counter()
    if cold:
        finished = subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, capture_output=True, check=True)
        output = finished.stdout.decode()
    else:
        out = io.StringIO()
        call_command(*arguments, stdout=out)
        output = out.getvalue()
    wall = (time.perf_counter() - started) * 1000
    result = json.loads(output)
    if result["model"]:
        raise SystemExit("The command answered with a chat model; unset CHAT_MODEL.")
    return wall, result["latency_ms"]


def run(url: str, username: str, questions: list[str], cold: bool) -> dict[str, list[float]]:
    import openai
    from django.contrib.auth import get_user_model

    from api.tokens import token_create, token_revoke
    from conversations.models import Conversation

    user, _ = get_user_model().objects.get_or_create(username=username)
    Conversation.objects.filter(owner=user).delete()
    token, raw = token_create(user=user, name=f"api_latency {time.time():.0f}")
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=raw, max_retries=0, timeout=300)
    times: dict[str, list[float]] = {"api": [], "api_answering": [], "command": [], "command_answering": []}
    try:
        ask_api(client, "Warming up: what is ragchat?")
        ask_command("Warming up: what is ragchat?", username, cold)
        for number, question in enumerate(questions, start=1):
            for way, ask in (
                ("api", lambda q: ask_api(client, q)),
                ("command", lambda q: ask_command(q, username, cold)),
            ):
                wall, answering = ask(question)
                times[way].append(wall)
                times[f"{way}_answering"].append(answering)
            print(f"{number}/{len(questions)} {question}", file=sys.stderr)
    finally:
        token_revoke(token=token)
    return times


def report(times: dict[str, list[float]], cold: bool) -> str:
    command = "manage.py ask --json" + (" (own process)" if cold else " (in-process, warm)")
    rows = [
        ("POST /v1/chat/completions, wall", times["api"]),
        ("  of which answering (latency_ms)", times["api_answering"]),
        (command + ", wall", times["command"]),
        ("  of which answering (latency_ms)", times["command_answering"]),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{len(times['api'])} questions, extractive answers (no chat model)", f"{'':{width}}   p50 ms   p95 ms"]
    lines += [f"{label:{width}} {percentile(v, 0.5):8.0f} {percentile(v, 0.95):8.0f}" for label, v in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="A running ragchat (started as above); by default one is started.")
    parser.add_argument("--user", default="apibench", help="The user both ways ask as (made if missing).")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), help="How many of the 20 questions.")
    parser.add_argument("--cold", action="store_true", help="Run `manage.py ask` as its own process each time.")
    parser.add_argument("--json", action="store_true", help="Print the times as one JSON object as well.")
    options = parser.parse_args()
    if not 1 <= options.questions <= len(QUESTIONS):
        parser.error(f"--questions is between 1 and {len(QUESTIONS)}.")
    questions = QUESTIONS[: options.questions]
    setup_django()
    if options.url:
        times = run(options.url.rstrip("/"), options.user, questions, options.cold)
    else:
        with own_server() as url:
            times = run(url, options.user, questions, options.cold)
    print(report(times, options.cold))
    if options.json:
        print(json.dumps(times))


if __name__ == "__main__":
    main()
