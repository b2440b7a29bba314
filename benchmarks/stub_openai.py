"""A local OpenAI-compatible chat model for benchmarks: slow on purpose, and cheap to run.

It answers POST /v1/chat/completions after ``--delay`` seconds (0.5), then streams ``--tokens``
tokens (300) at ``--rate`` tokens a second (40), as server-sent events in OpenAI's format, with
the token usage at the end when asked for it (``stream_options.include_usage``); without
``stream`` it sends the whole reply after the same time. GET /v1/models lists its one model.

It is a bare ASGI application served by uvicorn (one process, one event loop), so hundreds of
streams at once cost it little CPU: the CPU measured is ragchat's.

    .venv/bin/python benchmarks/stub_openai.py --port 8400 [--delay 0.5] [--rate 40] [--tokens 300]

Configure ragchat to use it as the README says models are configured:

    CHAT_MODEL=openai:stub CHAT_MODEL_BASE_URL=http://127.0.0.1:8400/v1 OPENAI_API_KEY=stub-key
"""

import argparse
import asyncio
import json
import time

MODEL = "stub"
OPTIONS = argparse.Namespace(delay=0.5, rate=40.0, tokens=300)


def token(number: int) -> str:
    return f"word{number % 100} "


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return  # lifespan: nothing to set up
    if scope["method"] == "GET" and scope["path"] == "/v1/models":
        await _json(send, 200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "stub"}]})
        return
    if scope["method"] != "POST" or scope["path"] != "/v1/chat/completions":
        await _json(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})
        return
    body = json.loads(await _body(receive))
    await asyncio.sleep(OPTIONS.delay)
    if body.get("stream"):
        await _stream(send, body)
    else:
        await asyncio.sleep(OPTIONS.tokens / OPTIONS.rate)
        text = "".join(token(n) for n in range(OPTIONS.tokens))
        choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        await _json(send, 200, _completion(body, [choice], usage=_usage(body)))


async def _stream(send, body: dict) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    started = time.monotonic()
    for number in range(OPTIONS.tokens):
        # Paced against the clock, so a late wake-up does not slow the whole stream down.
        await asyncio.sleep(max(0.0, started + number / OPTIONS.rate - time.monotonic()))
        await _event(send, _completion(body, [{"index": 0, "delta": {"content": token(number)}}], chunk=True))
    await _event(send, _completion(body, [{"index": 0, "delta": {}, "finish_reason": "stop"}], chunk=True))
    if body.get("stream_options", {}).get("include_usage"):
        await _event(send, _completion(body, [], usage=_usage(body), chunk=True))
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


async def _event(send, payload: dict) -> None:
    await send(
        {"type": "http.response.body", "body": b"data: " + json.dumps(payload).encode() + b"\n\n", "more_body": True}
    )


async def _body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send, status: int, payload: dict) -> None:
    data = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


def _usage(body: dict) -> dict:
    prompt = sum(len(str(message.get("content", "")).split()) for message in body.get("messages", []))
    return {"prompt_tokens": prompt, "completion_tokens": OPTIONS.tokens, "total_tokens": prompt + OPTIONS.tokens}


def _completion(body: dict, choices: list, *, usage: dict | None = None, chunk: bool = False) -> dict:
    payload = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", MODEL),
        "choices": choices,
    }
    if usage:
        payload["usage"] = usage
    return payload


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on. Default: %(default)s.")
    parser.add_argument("--port", type=int, default=8400, help="Port to listen on. Default: %(default)s.")
    parser.add_argument(
        "--delay", type=float, default=0.5, help="Seconds before the first token. Default: %(default)s."
    )
    parser.add_argument("--rate", type=float, default=40.0, help="Tokens a second. Default: %(default)s.")
    parser.add_argument("--tokens", type=int, default=300, help="Tokens in every reply. Default: %(default)s.")
    args = parser.parse_args()
    if args.delay < 0 or args.rate <= 0 or args.tokens < 1:
        parser.error("--delay must not be negative; --rate and --tokens must be positive.")
    OPTIONS.delay, OPTIONS.rate, OPTIONS.tokens = args.delay, args.rate, args.tokens
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", lifespan="off", backlog=4096)


if __name__ == "__main__":
    main()
