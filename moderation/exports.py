"""Downloads of selected messages: for reading (JSON lines, CSV) and as evaluation questions."""

import csv
import json
from collections.abc import Iterable
from datetime import date

from django.http import HttpResponse

from conversations.models import Message
from evaluation.evalset import evaluation_line

EXPORT_FIELDS = [
    "id", "created_at", "owner", "chat_type", "status", "question", "search_query", "answer", "model_name",
    "prompt_tokens", "completion_tokens", "latency_ms", "error", "feedback", "feedback_comment", "flagged",
    "hidden", "sources",
]  # fmt: skip


def message_row(message: Message) -> dict:
    """One message with its owner's username and its passages, as the moderators read it."""
    row = {field: getattr(message, field, None) for field in EXPORT_FIELDS[:-1]}
    row.update(owner=message.conversation.owner.get_username(), created_at=message.created_at.isoformat())
    row["sources"] = [passage.summary() for passage in message.passages()]
    return row


def jsonl_download(messages: Iterable[Message]) -> HttpResponse:
    body = "".join(json.dumps(message_row(message), ensure_ascii=False) + "\n" for message in messages)
    return download(body, "messages.jsonl", "application/x-ndjson")


def csv_download(messages: Iterable[Message]) -> HttpResponse:
    response = download("", "messages.csv", "text/csv")
    writer = csv.DictWriter(response, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for message in messages:
        row = message_row(message)
        # A cell holds text, not a list: the paths of the sources, in rank order.
        writer.writerow(row | {"sources": "; ".join(source["path"] for source in row["sources"])})
    return response


def evaluation_download(messages: Iterable[Message]) -> HttpResponse:
    """The evaluation-set format (evaluation.evalset), the same lines as export_dataset begins with."""
    body = "".join(json.dumps(evaluation_line(message), ensure_ascii=False) + "\n" for message in messages)
    return download(body, "evaluation.jsonl", "application/x-ndjson")


def download(body: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{date.today():%Y-%m-%d}-{filename}"'
    return response
