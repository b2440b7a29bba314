import pytest

from evaluation.evalset import Question
from evaluation.scoring import RankedResult, compute_metrics, distinct_sources, percentile, rank_questions


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


def test_rank_questions_ranks_documents_by_their_best_chunk_and_times_each_question():
    chunks = {
        "Roses?": ["roses.md", "roses.md", "kettle.txt"],  # rank 1
        "Kettle?": ["roses.md", "roses.md", "bikes.html", "kettle.txt"],  # rank 3 once duplicates collapse
        "Bikes?": ["roses.md"],  # not retrieved
    }
    asked = []

    def search(text: str) -> list[str]:
        asked.append(text)
        return chunks.get(text, [])

    questions = [Question("q1", "Roses?", "roses.md"), Question("q2", "Kettle?", "kettle.txt"),
                 Question("q3", "Bikes?", "bikes.html")]  # fmt: skip
    done = []
    results = rank_questions(questions, search, on_question=lambda: done.append(1))

    assert asked == ["warm-up", "Roses?", "Kettle?", "Bikes?"]  # one untimed search first
    assert [(r.id, r.ranked_sources, r.rank) for r in results] == [
        ("q1", ["roses.md", "kettle.txt"], 1),
        ("q2", ["roses.md", "bikes.html", "kettle.txt"], 3),
        ("q3", ["roses.md"], None),
    ]
    assert len(done) == 3 and all(r.latency_ms >= 0 for r in results)
    metrics = compute_metrics(results)
    assert (metrics["recall@1"], metrics["recall@5"]) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert metrics["mrr@10"] == pytest.approx((1 + 1 / 3) / 3)
