"""Follow-up questions: what to search for when a question leans on the conversation before it."""

import re

from conversations import llm
from conversations.prompts import ModelChoice

FOLLOW_UP_CUES = ("and ", "but ", "also ", "so ", "then ", "what about", "how about", "why not", "what if")
REFERRING_WORDS = {"it", "its", "this", "that", "these", "those", "they", "them", "their", "there", "he",
                   "she", "his", "her", "one", "ones", "same", "above", "previous", "former", "latter"}  # fmt: skip
FOLLOW_UP_MAX_WORDS = 5


def looks_like_follow_up(question: str) -> bool:
    """The documented rule used when no model is configured.

    A question depends on earlier turns when it is very short (five words or fewer), starts
    with a connective ("and", "but", "what about", ...), or uses a referring word ("it",
    "that", "they", ...).
    """
    lowered = question.strip().lower()
    words = re.findall(r"[\w']+", lowered)
    return (
        len(words) <= FOLLOW_UP_MAX_WORDS
        or lowered.startswith(FOLLOW_UP_CUES)
        or any(word in REFERRING_WORDS for word in words)
    )


def standalone_query(question: str, history: list[tuple[str, str, str]], model: ModelChoice | None) -> str:
    """The search query for ``question`` given earlier turns as (question, search query, answer).

    With a chat model, the model rewrites the question using the conversation. Without one,
    a follow-up (see ``looks_like_follow_up``) is searched together with the previous search
    query, so "and how do I undo it?" after "how do I import documents?" searches both.
    """
    if not history:
        return question
    if model is None:
        return _joined_with_previous(question, history)
    return llm.rewrite_question(model, question, _turns(history)) or question


async def astandalone_query(question: str, history: list[tuple[str, str, str]], model: ModelChoice | None) -> str:
    """``standalone_query`` for async callers: the model's rewrite holds no thread while it waits."""
    if not history or model is None:
        return standalone_query(question, history, model)  # no model call: nothing to wait on
    return await llm.arewrite_question(model, question, _turns(history)) or question


def _joined_with_previous(question: str, history: list[tuple[str, str, str]]) -> str:
    previous_query = history[-1][1] or history[-1][0]
    return f"{previous_query} {question}" if looks_like_follow_up(question) else question


def _turns(history: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(earlier_question, earlier_answer) for earlier_question, _, earlier_answer in history]
