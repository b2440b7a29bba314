"""An anonymised dataset of answered exchanges, in the evaluation-set format plus what was answered.

The `export_dataset` command is a thin wrapper around dataset_export().
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from django.utils import timezone

from conversations.models import Feedback, Message, MessageStatus
from evaluation.evalset import evaluation_line


@dataclass(frozen=True)
class DatasetSummary:
    lines: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0


def dataset_records(*, only_feedback: bool = False, since: date | None = None) -> Iterator[dict]:
    """Answered, visible exchanges without anything that identifies a user or a conversation.

    Each record is an evaluation line (pseudonymous id, question, expected_source: null until a
    moderator or the reader fills it in) followed by what was answered, which `evaluate` ignores.
    """
    messages = Message.objects.filter(status=MessageStatus.ANSWERED, hidden=False).order_by("created_at", "id")
    if only_feedback:
        messages = messages.filter(feedback__isnull=False)
    if since:
        messages = messages.filter(created_at__date__gte=since)
    for message in messages.iterator(chunk_size=500):
        yield evaluation_line(message) | {
            "search_query": message.search_query,
            "answer": message.answer,
            "chat_type": message.chat_type,
            "model": message.model_name,
            "created_at": timezone.localdate(message.created_at).isoformat(),
            "feedback": message.feedback,
            "feedback_comment": message.feedback_comment,
            "sources": [passage.summary() for passage in message.passages()],
        }


def dataset_export(*, out: TextIO | None, only_feedback: bool = False, since: date | None = None) -> DatasetSummary:
    """Write dataset_records() to out as JSON lines and count them; with out=None only count."""
    lines = up = down = 0
    for record in dataset_records(only_feedback=only_feedback, since=since):
        if out is not None:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        lines += 1
        up += record["feedback"] == Feedback.UP
        down += record["feedback"] == Feedback.DOWN
    return DatasetSummary(lines=lines, thumbs_up=up, thumbs_down=down)
