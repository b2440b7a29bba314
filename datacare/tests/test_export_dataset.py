import json
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import run_command as run
from conversations.models import Message
from evaluation.evalset import QuestionFileError, dataset_id, load_questions


def dataset(*args) -> tuple[list[dict], str, str]:
    out, err = run("export_dataset", *args)
    return [json.loads(line) for line in out.splitlines()], out, err


def test_export_dataset_has_answered_visible_exchanges_with_stable_pseudonymous_ids(chats):
    records, out, err = dataset()
    by_question = {r["question"]: r for r in records}
    assert set(by_question) == {"When do I prune roses?", "How do I descale the kettle?", chats.bobs.question}
    roses = by_question["When do I prune roses?"]
    assert set(roses) == {
        "id", "question", "search_query", "answer", "chat_type", "model", "created_at",
        "feedback", "feedback_comment", "sources", "expected_source",
    }  # fmt: skip
    assert (roses["feedback"], roses["feedback_comment"], roses["expected_source"]) == (1, "Spot on", None)
    assert roses["created_at"] == timezone.localdate(chats.up.created_at).isoformat()
    assert set(roses["sources"][0]) == {"n", "path", "title", "heading", "page", "collection", "score", "similarity"}
    assert roses["sources"][0]["path"] == "garden/roses.md"
    assert by_question["How do I descale the kettle?"]["feedback"] == -1
    assert "Exported 3 answered message(s) (1 rated up, 1 rated down)" in err

    assert all(re.fullmatch(r"[0-9a-f]{16}", r["id"]) for r in records)
    assert [r["id"] for r in dataset()[0]] == [r["id"] for r in records]  # stable between runs
    for identity in ("alice", "bob", "alice@example.org"):
        assert identity not in out
    pks = {chats.up.pk, chats.up.conversation_id, chats.alice.pk, chats.bob.pk, chats.bobs.pk}
    for record in records:
        assert record["id"] not in {str(pk) for pk in pks}
        assert not {value for key, value in record.items() if key != "sources"} & pks


def test_export_dataset_filters_by_feedback_and_date_and_writes_a_file(chats, tmp_path):
    records, _, _ = dataset("--only-feedback")
    assert sorted(r["feedback"] for r in records) == [-1, 1]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert dataset("--since", tomorrow)[0] == []
    assert len(dataset("--since", timezone.localdate().isoformat())[0]) == 3
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_dataset", "--since", "last week")

    out, _ = run("export_dataset", "--dry-run")
    assert out.startswith("Dry run: would export 3 answered message(s)") and "{" not in out

    path = tmp_path / "dataset.jsonl"
    out, err = run("export_dataset", "--output", str(path))
    assert out == "" and str(path) in err
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_export_dataset_lines_are_evaluation_lines_with_the_moderators_expected_source(chats):
    Message.objects.filter(pk=chats.up.pk).update(expected_source="garden/roses.md")
    records = {r["question"]: r for r in dataset()[0]}
    roses = records["When do I prune roses?"]
    assert {key: roses[key] for key in ("id", "question", "expected_source")} == {
        "id": dataset_id(chats.up.pk),
        "question": "When do I prune roses?",
        "expected_source": "garden/roses.md",
    }
    assert records["How do I descale the kettle?"]["expected_source"] is None


def test_exported_lines_feed_evaluate_once_expected_source_is_filled_in(chats, tmp_path):
    records, _, _ = dataset("--only-feedback")
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    with pytest.raises(QuestionFileError, match="line 1: .*expected_source is empty"):
        load_questions(path)

    path.write_text("\n".join(json.dumps(r | {"expected_source": r["sources"][0]["path"]}) for r in records))
    questions = load_questions(path)
    assert [(q.id, q.question) for q in questions] == [(r["id"], r["question"]) for r in records]
