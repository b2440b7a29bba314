import json

import pytest
from django.core.management import CommandError, call_command

from conversations.evaluation import RankedResult, compute_metrics, distinct_sources, percentile


def result(expected: str, ranked: list[str], latency: float = 10.0) -> RankedResult:
    return RankedResult(id=expected, expected_source=expected, ranked_sources=ranked, latency_ms=latency)


def test_metrics_for_a_known_ranking():
    results = [
        result("a", ["a", "x", "y"], 10),  # rank 1
        result("b", ["x", "y", "b"], 20),  # rank 3
        result("c", ["x"] * 5 + ["y", "z", "w", "v", "c"], 30),  # rank 10
        result("d", ["x", "y"], 40),  # not found
    ]
    metrics = compute_metrics(results)
    assert metrics["recall@1"] == 0.25
    assert metrics["recall@5"] == 0.5
    assert metrics["recall@10"] == 0.75
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3 + 1 / 10) / 4)
    assert metrics["retrieval_ms_p50"] == 20
    assert metrics["retrieval_ms_p95"] == 40


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([7.0], 0.95)) == (50, 95, 7.0)


def test_sources_are_ranked_by_their_best_chunk():
    assert distinct_sources(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


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
