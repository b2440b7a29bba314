"""The evaluation-set format: JSON lines that `evaluate` reads and every export writes.

Each line is one JSON object with:

- ``id``: a string naming the question. Exports from the chat use ``dataset_id()``, a pseudonym of
  the message, stable while SECRET_KEY stays the same and meaningless without it.
- ``question``: the question as asked.
- ``expected_source``: the path of the document that answers it, relative to the corpus (as passages
  give it); ``null`` until a person fills it in, and `evaluate` refuses lines where it is missing.

Any other key (``answer``, ``sources``, ``feedback`` ...) may be present and is ignored by `evaluate`.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from django.utils.crypto import salted_hmac

from conversations.models import Message

# Salting the HMAC by purpose keeps dataset ids unrelated to any other use of SECRET_KEY. The value
# is the one used since the first exports, so ids written before this module existed still match.
DATASET_ID_SALT = "ragchat.datacare.dataset_id"


class QuestionFileError(ValueError):
    """A line of the questions file is not what `evaluate` needs; the message says which and why."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected_source: str


def dataset_id(message_pk: int) -> str:
    """A stable pseudonym for a message: the same while SECRET_KEY stays, meaningless without it."""
    return salted_hmac(DATASET_ID_SALT, str(message_pk), algorithm="sha256").hexdigest()[:16]


def evaluation_line(message: Message) -> dict:
    """The keys of the format for one message; callers may add their own after them."""
    return {
        "id": dataset_id(message.pk),
        "question": message.question,
        "expected_source": message.expected_source or None,
    }


def _question(item: dict) -> Question:
    if not isinstance(item, dict):
        raise TypeError("not a JSON object")
    question = Question(str(item["id"]), item["question"], item["expected_source"])
    if not question.expected_source:
        raise ValueError("expected_source is empty: fill in the document that answers the question")
    return question


def load_questions(path: Path) -> list[Question]:
    """The questions of a file in the format above; a bad line raises QuestionFileError naming it."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(_question(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise QuestionFileError(
                f"{path}, line {number}: expected a JSON object with id, question and expected_source ({exc})"
            ) from None
    if not questions:
        raise QuestionFileError(f"{path} holds no questions.")
    return questions
