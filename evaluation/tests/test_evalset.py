import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from conftest import answer_question
from conversations import services
from conversations.models import ChatType
from evaluation.evalset import Question, QuestionFileError, dataset_id, evaluation_line, load_questions

SHARED_SETS = sorted(Path(settings.BASE_DIR).parent.glob("shared/eval/*/questions*.jsonl"))


def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_message_becomes_a_line_with_a_pseudonymous_id_and_its_expected_source(knowledge_base, alice):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    message = answer_question(conversation=conversation, question="When to prune roses?")
    assert evaluation_line(message) == {
        "id": dataset_id(message.pk),
        "question": "When to prune roses?",
        "expected_source": None,
    }
    message.expected_source = "garden/roses.md"
    assert evaluation_line(message)["expected_source"] == "garden/roses.md"


def test_dataset_ids_are_stable_short_hex_and_depend_on_the_secret_key(settings):
    first = dataset_id(42)
    assert re.fullmatch(r"[0-9a-f]{16}", first) and dataset_id(42) == first != dataset_id(43)
    settings.SECRET_KEY = "another-secret-key-for-this-test"
    assert dataset_id(42) != first


def test_questions_load_with_their_extra_keys_ignored(tmp_path):
    path = write_lines(
        tmp_path / "questions.jsonl",
        json.dumps({"id": "q1", "question": "Roses?", "expected_source": "garden/roses.md", "answer": "In winter."}),
        "",
        json.dumps({"id": 7, "question": "Kettle?", "expected_source": "kettle.txt", "sources": []}),
    )
    assert load_questions(path) == [Question("q1", "Roses?", "garden/roses.md"), Question("7", "Kettle?", "kettle.txt")]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "q2"}', "'question'"),
        ('{"id": "q2", "question": "Kettle?", "expected_source": null}', "expected_source is empty"),
        ('{"id": "q2", "question": "Kettle?", "expected_source": ""}', "expected_source is empty"),
        ('["q2", "Kettle?", "kettle.txt"]', "not a JSON object"),
        ("{not json", "Expecting property name"),
    ],
)
def test_a_bad_line_is_refused_with_its_number_and_reason(tmp_path, line, reason):
    good = json.dumps({"id": "q1", "question": "Roses?", "expected_source": "garden/roses.md"})
    path = write_lines(tmp_path / "questions.jsonl", good, line)
    with pytest.raises(QuestionFileError, match=rf"line 2: expected a JSON object .*{re.escape(reason)}"):
        load_questions(path)


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(QuestionFileError, match="holds no questions"):
        load_questions(write_lines(tmp_path / "questions.jsonl", ""))


@pytest.mark.skipif(not SHARED_SETS, reason="the shared evaluation sets are not on this machine")
@pytest.mark.parametrize("path", SHARED_SETS, ids=[p.parent.name for p in SHARED_SETS])
def test_the_shared_evaluation_sets_load(path):
    questions = load_questions(path)
    assert questions and all(q.id and q.question and q.expected_source for q in questions)
