import json

import pytest
from django.core.management import CommandError, call_command

from documents.models import Collection, Visibility


def test_evaluate_imports_the_corpus_and_reports_every_metric(db, docs_dir, tmp_path, capsys):
    questions = tmp_path / "questions.jsonl"
    lines = [
        {"id": "q1", "question": "When should roses be pruned?", "expected_source": "garden/roses.md"},
        {"id": "q2", "question": "How often do I oil a bike chain?", "expected_source": "bikes.html"},
        {"id": "q3", "question": "How do I get limescale out of a kettle?", "expected_source": "kettle.txt"},
    ]
    questions.write_text("\n".join(json.dumps(line) for line in lines))

    call_command("evaluate", str(questions), "--corpus", str(docs_dir), "--json", verbosity=0)
    output = json.loads(capsys.readouterr().out)

    assert output["collection"] == "eval-docs"
    assert output["recall@1"] == output["recall@5"] == output["mrr@10"] == 1.0
    assert output["retrieval_ms_p50"] > 0 and output["retrieval_ms_p95"] >= output["retrieval_ms_p50"]
    assert [q["id"] for q in output["questions"]] == ["q1", "q2", "q3"]
    assert sorted(output["questions"][0]["ranked_sources"]) == ["bikes.html", "garden/roses.md", "kettle.txt"]

    # A second run imports nothing new and gives the same rankings.
    call_command("evaluate", str(questions), "--corpus", str(docs_dir), "--json", verbosity=0)
    again = json.loads(capsys.readouterr().out)
    assert again["questions"] == output["questions"]


def test_a_bad_questions_file_names_the_line(db, docs_dir, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text('{"id": "q1", "question": "ok?", "expected_source": "kettle.txt"}\n{"id": "q2"}\n')
    with pytest.raises(CommandError, match="line 2: expected a JSON object"):
        call_command("evaluate", str(questions), "--corpus", str(docs_dir), verbosity=0)


def test_a_sets_corpus_folder_is_evaluated_in_the_suites_collection(db, suite_dir, capsys):
    beta = suite_dir / "beta"
    call_command("evaluate", str(beta / "questions.jsonl"), "--corpus", str(beta / "corpus"), "--json", verbosity=0)
    output = json.loads(capsys.readouterr().out)
    assert output["collection"] == "eval-beta"  # not eval-corpus, which every set's corpus/ would share
    assert Collection.objects.get(name="eval-beta").visibility == Visibility.PRIVATE
