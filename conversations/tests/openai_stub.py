"""A local OpenAI-compatible chat server, so the real LangChain OpenAI client is tested at its wire.

It answers /v1/chat/completions, plain or streamed (server-sent events), and can be told to
fail, to be slow, or to drop the connection in the middle of a streamed answer.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USAGE = {"prompt_tokens": 123, "completion_tokens": 9, "total_tokens": 132}


class OpenAIStub:
    def __init__(self, reply: str = "Roses are pruned in late winter [1]."):
        self.reply = reply
        self.delay = 0.0  # seconds before answering
        self.token_delay = 0.0  # seconds between streamed pieces
        self.status = 200
        self.drop_after: int | None = None  # streamed pieces sent before the connection is cut
        self.replies: list[str] = []  # if set, successive requests get these replies in turn
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def next_reply(self) -> str:
        return self.replies.pop(0) if self.replies else self.reply

    def _handler(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                time.sleep(stub.delay)
                try:
                    if stub.status != 200:
                        self._json(
                            stub.status, {"error": {"message": "the model is overloaded", "type": "server_error"}}
                        )
                    elif body.get("stream"):
                        self._stream(body, stub.next_reply())
                    else:
                        message = {"role": "assistant", "content": stub.next_reply()}
                        choice = {"index": 0, "finish_reason": "stop", "message": message}
                        self._json(200, _completion(body, choices=[choice], usage=USAGE))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeouts, stop buttons)

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict, reply: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                # Chunked, as real APIs stream: a connection cut before the last chunk is then an error.
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = [word + " " for word in reply.split(" ")]
                pieces[-1] = pieces[-1].rstrip(" ")
                for count, piece in enumerate(pieces):
                    if stub.drop_after is not None and count >= stub.drop_after:
                        self.wfile.flush()
                        self.connection.shutdown(2)  # cut the connection mid-answer
                        return
                    delta = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
                    self._event(_completion(body, choices=[delta], chunk=True))
                    time.sleep(stub.token_delay)
                self._event(_completion(body, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}], chunk=True))
                if body.get("stream_options", {}).get("include_usage"):
                    self._event(_completion(body, choices=[], usage=USAGE, chunk=True))
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")  # the terminating zero-length chunk

            def _event(self, payload: dict) -> None:
                self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def log_message(self, *args):
                pass

        return Handler

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _completion(body: dict, *, choices: list, usage: dict | None = None, chunk: bool = False) -> dict:
    payload = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": choices,
    }
    if usage:
        payload["usage"] = usage
    return payload
