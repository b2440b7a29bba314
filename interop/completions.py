"""OpenAI's chat-completions protocol, as ragchat speaks it: reading a request, writing a response.

The model name chooses what to search: ``ragchat`` for every collection the caller may read,
``ragchat:<collection>`` for one. The last message, the user's, is the question; earlier user and
assistant messages are its history. System and developer messages are not followed (ragchat's
own prompts say how to answer from the documents), tool messages are skipped, and sampling
parameters (temperature, max_tokens, stop, ...) are ignored: the answering configuration decides
them. Only ``n`` is refused when it is not 1, since one call gives one answer.

Responses carry two fields of ragchat's own: ``sources`` (the passages cited as [n]) and
``conversation_id`` (where the call is stored).
"""

import json
from dataclasses import dataclass, field

from interop.calls import Refused

MODEL = "ragchat"
MODEL_PREFIX = MODEL + ":"
OWNED_BY = "ragchat"


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    question: str
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (question, answer) turns
    stream: bool = False
    include_usage: bool = False  # stream_options.include_usage: a last chunk with the usage

    @property
    def collection(self) -> str | None:
        """The collection the model name chooses; None for all the caller may read."""
        return self.model.removeprefix(MODEL_PREFIX) if self.model != MODEL else None


def invalid(reason: str, param: str | None = None) -> Refused:
    return Refused(reason, kind="invalid", param=param)


def parse_request(body: bytes) -> CompletionRequest:
    """The request's parts; Refused with the first problem found, naming its parameter."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise invalid("The request body must be JSON: an object with `model` and `messages`.") from None
    if not isinstance(data, dict):
        raise invalid("The request body must be a JSON object with `model` and `messages`.")
    model = data.get("model")
    if not isinstance(model, str) or not (model == MODEL or model.startswith(MODEL_PREFIX)):
        raise Refused(
            f"The model {model!r} does not exist. Use `ragchat` to search every collection you can read, "
            "or `ragchat:<collection>` for one (GET /v1/models lists them).",
            kind="not_found",
            param="model",
        )
    if data.get("n", 1) not in (1, None):
        raise invalid("ragchat writes one answer per call: `n` must be 1.", "n")
    question, history = _conversation(data.get("messages"))
    stream = data.get("stream") is True
    options = data.get("stream_options") or {}
    return CompletionRequest(
        model=model,
        question=question,
        history=history,
        stream=stream,
        # Only a stream has a usage chunk; a whole completion always carries its usage.
        include_usage=stream and isinstance(options, dict) and options.get("include_usage") is True,
    )


def _conversation(messages) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message, the user's) and the earlier (question, answer) turns."""
    if not isinstance(messages, list) or not messages:
        raise invalid("`messages` must be a list of messages, the last one the user's question.", "messages")
    said = [(_role(message), _text(message)) for message in messages]
    role, question = said[-1]
    if role != "user":
        raise invalid("The last message must be the user's question (role `user`).", "messages")
    turns: list[tuple[str, str]] = []
    for role, text in said[:-1]:
        if role == "user":
            turns.append((text, ""))
        elif role == "assistant" and turns:  # an answer belongs to the question before it
            earlier_question, earlier_answer = turns[-1]
            turns[-1] = (earlier_question, f"{earlier_answer}\n\n{text}".strip())
    return question, turns


def _role(message) -> str:
    role = message.get("role") if isinstance(message, dict) else None
    if not isinstance(role, str):
        raise invalid("Each message must be an object with a `role` and a `content`.", "messages")
    return role


def _text(message: dict) -> str:
    """The message's text: a string, or the text parts of a list of parts."""
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list) and all(isinstance(part, dict) for part in content):
        if any(part.get("type") != "text" or not isinstance(part.get("text"), str) for part in content):
            raise invalid("ragchat reads text only: every content part must be of type `text`.", "messages")
        return "\n".join(part["text"] for part in content)
    raise invalid("A message's `content` must be a string or a list of text parts.", "messages")


def error_body(reason: str, *, kind: str, param: str | None = None, code: str | None = None) -> dict:
    """OpenAI's error shape; ``kind`` is its ``type``."""
    return {"error": {"message": reason, "type": kind, "param": param, "code": code}}


def model_entry(model_id: str, *, created: int, title: str) -> dict:
    return {"id": model_id, "object": "model", "created": created, "owned_by": OWNED_BY, "title": title}


def usage(prompt_tokens: int | None, completion_tokens: int | None) -> dict | None:
    """Token counts where the chat model reported them; None for extractive answers (no model)."""
    if prompt_tokens is None or completion_tokens is None:
        return None
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(*, ident: str, created: int, model: str, text: str, extra: dict, tokens: dict | None) -> dict:
    """A whole (non-streamed) chat completion."""
    message = {"role": "assistant", "content": text}
    choice = {"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}
    body = {"id": ident, "object": "chat.completion", "created": created, "model": model, "choices": [choice]}
    return body | {"usage": tokens} | extra


def chunk(*, ident: str, created: int, model: str, delta: dict | None, finish: str | None = None, **extra) -> dict:
    """One streamed chunk; ``delta`` None gives the usage chunk's empty list of choices."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model, "choices": choices}
    return body | extra


def event(data: dict | str) -> str:
    """One server-sent event, as OpenAI's clients read them."""
    return f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n"
