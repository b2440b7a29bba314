"""The only module that talks to LangChain's chat models.

Small replaceable functions (``get_chat_model``, ``build_prompt``) keep each step testable:
tests swap the chat model for LangChain's fake models or point it at a local OpenAI-compatible
server. Nothing else in the project imports LangChain's chat-model code.
"""

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass

from django.conf import settings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from conversations.prompts import ModelChoice
from documents.search import RetrievedChunk

HISTORY_TURNS = 3
PIECE_INTERVAL = 0.1  # seconds between the pieces of a streamed reply (Pacer)
REWRITE_PROMPT = (
    "Rewrite the user's last question so that it can be understood without the conversation, "
    "for a search engine over the user's documents. Keep its language and meaning; replace words "
    "like 'it' or 'that' with what they refer to. Reply with the rewritten question only."
)


def get_chat_model(choice: ModelChoice) -> BaseChatModel:
    """The LangChain chat model for ``choice``."""
    from langchain.chat_models import init_chat_model

    options = {
        "temperature": choice.temperature,
        "max_tokens": choice.max_tokens,
        "timeout": choice.timeout,
        "max_retries": settings.CHAT_MODEL_MAX_RETRIES,
    }
    if choice.model.startswith("openai:"):
        # OpenAI reports token usage on a stream only when asked to.
        options["stream_usage"] = True
    if choice.base_url:
        options["base_url"] = choice.base_url
    if choice.api_key:
        options["api_key"] = choice.api_key
    return init_chat_model(choice.model, **options)


def format_passages(passages: list[RetrievedChunk]) -> str:
    """Each passage numbered, with its title on one line and its text between <<< and >>> fences.

    Titles and texts come from the documents and may imitate the prompt's layout to close
    their quote early and pass as instructions: the header is kept to one line, and a fence
    is made longer than any run of < or > in the passage.
    """
    blocks = []
    for number, passage in enumerate(passages, start=1):
        header = " ".join(f"[{number}] {passage.title} — {passage.heading}".split())
        quoted = header + "\n" + passage.text
        fence = 3
        while "<" * fence in quoted or ">" * fence in quoted:
            fence += 1
        blocks.append(f"{header}\n{'<' * fence}\n{passage.text}\n{'>' * fence}")
    return "\n\n".join(blocks)


def _history_messages(history: list[tuple[str, str]]) -> list[BaseMessage]:
    messages: list[BaseMessage] = []
    for earlier_question, earlier_answer in history[-HISTORY_TURNS:]:
        messages += [HumanMessage(earlier_question), AIMessage(earlier_answer)]
    return messages


def build_prompt(
    *, system_prompt: str, question: str, passages: list[RetrievedChunk], history: list[tuple[str, str]]
) -> list[BaseMessage]:
    """System prompt, the last few exchanges (question, answer), then the passages and the question."""
    messages: list[BaseMessage] = [SystemMessage(system_prompt), *_history_messages(history)]
    messages.append(HumanMessage(f"Passages:\n\n{format_passages(passages)}\n\nQuestion: {question}"))
    return messages


@dataclass
class Usage:
    """Token counts the provider reported for one answer (None when it reports none)."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


def stream_reply(choice: ModelChoice, messages: list[BaseMessage], usage: Usage) -> Iterator[str]:
    """The model's reply in paced pieces (``Pacer``); ``usage`` is filled in as the provider reports it.

    Errors and timeouts from the model propagate to the caller, who records them, after the text
    that arrived before them.
    """
    pacer = Pacer()
    try:
        for chunk in get_chat_model(choice).stream(messages):
            _count(chunk, usage)
            if piece := pacer.piece(chunk.text):
                yield piece
    except Exception:
        if rest := pacer.rest():
            yield rest
        raise
    if rest := pacer.rest():
        yield rest


async def astream_reply(choice: ModelChoice, messages: list[BaseMessage], usage: Usage) -> AsyncIterator[str]:
    """``stream_reply`` for async callers: waiting on the model holds no thread."""
    pacer = Pacer()
    try:
        async with aclosing(get_chat_model(choice).astream(messages)) as chunks:
            async for chunk in chunks:
                _count(chunk, usage)
                if piece := pacer.piece(chunk.text):
                    yield piece
    except Exception:
        if rest := pacer.rest():
            yield rest
        raise
    if rest := pacer.rest():
        yield rest


class Pacer:
    """Joins a reply's tokens into pieces at least ``PIECE_INTERVAL`` apart: the first at once.

    A model writes a token at a time, dozens a second, and every piece becomes an event sent to
    the reader: one per token cost the server about 0.2 ms of CPU each, a sixth of all it spent
    on a streamed answer (README, "Speed: the ASGI server"). Ten pieces a second read the same.
    Text is held only until the next token after the interval, or the end of the reply (or its
    failure).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.held: list[str] = []
        self.sent_at: float | None = None

    def piece(self, text: str) -> str:
        """What to send now with ``text`` arrived: the held text joined, or "" to keep holding it."""
        if text:
            self.held.append(text)
        now = self.clock()
        if not self.held or (self.sent_at is not None and now - self.sent_at < PIECE_INTERVAL):
            return ""
        self.sent_at = now
        return self.rest()

    def rest(self) -> str:
        """The held text, now that no more is coming."""
        text = "".join(self.held)
        self.held.clear()
        return text


def _count(chunk, usage: Usage) -> None:
    if chunk.usage_metadata:
        usage.prompt_tokens = chunk.usage_metadata.get("input_tokens")
        usage.completion_tokens = chunk.usage_metadata.get("output_tokens")


def rewrite_question(choice: ModelChoice, question: str, history: list[tuple[str, str]]) -> str:
    """The question rewritten by the model to stand alone, given earlier (question, answer) turns."""
    return get_chat_model(choice).invoke(_rewrite_messages(question, history)).text.strip()


async def arewrite_question(choice: ModelChoice, question: str, history: list[tuple[str, str]]) -> str:
    """``rewrite_question`` for async callers."""
    return (await get_chat_model(choice).ainvoke(_rewrite_messages(question, history))).text.strip()


def _rewrite_messages(question: str, history: list[tuple[str, str]]) -> list[BaseMessage]:
    return [SystemMessage(REWRITE_PROMPT), *_history_messages(history), HumanMessage(question)]
