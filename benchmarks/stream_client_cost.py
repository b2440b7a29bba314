"""CPU per streamed token when reading a chat model's stream, three ways, in one process.

What it measures
    The stub model (benchmarks/stub_openai.py, started here: first token after 0.5 s, then 40
    tokens a second for 300 tokens) streams ``--streams`` replies at once to one event loop
    (uvloop, as the uvicorn workers run), read:
    1. ``llm``: through ragchat's own ``conversations.llm.astream_reply``, LangChain's ChatOpenAI
       (the openai SDK below it), paced into pieces as the answers are;
    2. ``sdk``: the openai SDK alone (``AsyncOpenAI(...).chat.completions.create(stream=True)``),
       one client for all streams;
    3. ``httpx``: the HTTP stream read line by line with httpx and each event parsed with
       ``json.loads``: the least any Python reader of this stream costs.
    For each it prints the process's CPU time (``time.process_time``) per streamed token and the
    streams two cores could read at 40 tokens a second at that cost, ragchat's serving excluded.

Usage:
    DEBUG=true .venv/bin/python benchmarks/stream_client_cost.py [--streams 40] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import REPO_ROOT  # noqa: E402
from stream_concurrency import free_port, wait_until_ready  # noqa: E402

RATE = 40  # the stub's tokens a second
PROMPT = "When should roses be pruned? " * 40


async def read_llm(base_url: str) -> int:
    from langchain_core.messages import HumanMessage

    from conversations import llm
    from conversations.prompts import ModelChoice

    choice = ModelChoice(model="openai:stub", temperature=0, timeout=120, max_tokens=400, base_url=base_url)
    tokens = 0
    async for piece in llm.astream_reply(choice, [HumanMessage(PROMPT)], llm.Usage()):
        tokens += piece.count(" ")  # the stub's tokens are words, each ending in a space
    return tokens


async def read_sdk(client, _base_url: str) -> int:
    stream = await client.chat.completions.create(
        model="stub", messages=[{"role": "user", "content": PROMPT}], stream=True
    )
    return len([chunk async for chunk in stream if chunk.choices and chunk.choices[0].delta.content])


async def read_httpx(client: httpx.AsyncClient, base_url: str) -> int:
    body = {"model": "stub", "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    tokens = 0
    async with client.stream("POST", f"{base_url}/chat/completions", json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                event = json.loads(line[6:])
                tokens += bool(event["choices"] and event["choices"][0]["delta"].get("content"))
    return tokens


async def measure(way: str, base_url: str, streams: int) -> dict:
    if way == "llm":
        read = read_llm
    else:
        import openai

        client = openai.AsyncOpenAI(base_url=base_url, api_key="stub") if way == "sdk" else httpx.AsyncClient()

        async def read(url: str) -> int:
            return await (read_sdk if way == "sdk" else read_httpx)(client, url)

    await read(base_url)  # imports, connections and caches warmed before anything is timed
    cpu, wall = time.process_time(), time.perf_counter()
    tokens = sum(await asyncio.gather(*(read(base_url) for _ in range(streams))))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    per_token_ms = cpu / tokens * 1000
    return {
        "way": way,
        "streams": streams,
        "tokens": tokens,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_token": round(per_token_ms, 3),
        "streams_two_cores_carry": int(2 / (per_token_ms / 1000 * RATE)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=40, help="Streams read at once. Default: %(default)s.")
    parser.add_argument("--json", action="store_true", help="Print the rows as JSON instead of a table.")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
    os.environ.setdefault("OPENAI_API_KEY", "stub-key-not-secret")
    import django
    import uvloop

    sys.path.insert(0, str(REPO_ROOT))
    django.setup()
    port = free_port()
    stub = subprocess.Popen([sys.executable, "benchmarks/stub_openai.py", "--port", str(port)], cwd=REPO_ROOT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_ready(f"{base_url}/models", stub, "stub model")
        rows = [uvloop.run(measure(way, base_url, options.streams)) for way in ("llm", "sdk", "httpx")]
    finally:
        stub.terminate()
        stub.wait()
    if options.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"| way ({options.streams} streams at once) | tokens | CPU s | CPU ms per token | streams two cores carry |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['way']} | {row['tokens']} | {row['cpu_s']} | {row['cpu_ms_per_token']} | "
            f"{row['streams_two_cores_carry']} |"
        )


if __name__ == "__main__":
    main()
