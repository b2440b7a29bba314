"""Time to first streamed piece and to the full answer, through a running ragchat server.

Logs in, asks each question with `Accept: application/x-ndjson` (the browser's streaming
request), and reports p50/p95 of the time to the first `delta` event and to the `done` event.

    python benchmarks/stream_latency.py --url http://127.0.0.1:8000 --user admin --password ... \\
        "How do I import documents?" "What does CHAT_MODEL do?"
"""

import argparse
import json
import math
import re
import time

import requests


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def log_in(session: requests.Session, url: str, user: str, password: str) -> None:
    page = session.get(f"{url}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{url}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": user, "password": password},
        headers={"Referer": f"{url}/accounts/login/"},
        allow_redirects=False,
    )
    if response.status_code != 302:
        raise SystemExit("Login failed: check --user and --password.")


def ask(session: requests.Session, url: str, question: str) -> tuple[float, float]:
    token = session.cookies["csrftoken"]
    started = time.perf_counter()
    first = None
    with session.post(
        f"{url}/conversations/new/",
        data={"question": question, "chat_type": "answer"},
        headers={"Accept": "application/x-ndjson", "X-CSRFToken": token, "Referer": f"{url}/"},
        stream=True,
    ) as response:
        for line in response.iter_lines():
            event = json.loads(line)
            if event["type"] == "delta" and first is None:
                first = time.perf_counter() - started
            if event["type"] == "done":
                return first * 1000, (time.perf_counter() - started) * 1000
    raise RuntimeError("The stream ended without a done event.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="+")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--rounds", type=int, default=3, help="How many times each question is asked.")
    args = parser.parse_args()
    session = requests.Session()
    log_in(session, args.url, args.user, args.password)
    ask(session, args.url, args.questions[0])  # warm-up: the worker loads the embedding model
    timings = [ask(session, args.url, q) for _ in range(args.rounds) for q in args.questions]
    first, full = [t[0] for t in timings], [t[1] for t in timings]
    print(f"{len(timings)} answers")
    print(f"first piece  p50 {percentile(first, 0.5):.0f} ms  p95 {percentile(first, 0.95):.0f} ms")
    print(f"full answer  p50 {percentile(full, 0.5):.0f} ms  p95 {percentile(full, 0.95):.0f} ms")


if __name__ == "__main__":
    main()
