"""Retrieval evaluation: run questions through a search and score the rankings.

Metrics are over documents (distinct sources), as a person judges retrieval: did the
document that answers the question come back, and how high? ``rank_questions`` times any
search that returns source paths best first, so the peer benchmark scores langchain-postgres'
stores with exactly the code that scores ragchat.
"""

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from documents.retrieval import retrieve
from documents.search import Reader
from evaluation.evalset import Question

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "retrieval_ms_p50", "retrieval_ms_p95")
# Chunks fetched per question: chunks of one document crowd the ranking, so fetch enough of them
# for ten distinct sources. The peer benchmark gives every peer the same depth.
SEARCH_DEPTH = 50


@dataclass(frozen=True)
class RankedResult:
    id: str
    expected_source: str
    ranked_sources: list[str]
    latency_ms: float

    @property
    def rank(self) -> int | None:
        """1 for the first source, None when the expected source was not retrieved at all."""
        try:
            return self.ranked_sources.index(self.expected_source) + 1
        except ValueError:
            return None


def distinct_sources(sources: Iterable[str]) -> list[str]:
    """Sources in order of their best chunk, each once."""
    return list(dict.fromkeys(sources))


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was really observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def compute_metrics(results: list[RankedResult]) -> dict[str, float]:
    ranks = [result.rank for result in results]
    count = len(results)
    metrics = {f"recall@{n}": sum(1 for r in ranks if r and r <= n) / count for n in (1, 5, 10)}
    metrics["mrr@10"] = sum(1 / r for r in ranks if r and r <= 10) / count
    latencies = [result.latency_ms for result in results]
    metrics["retrieval_ms_p50"] = percentile(latencies, 0.50)
    metrics["retrieval_ms_p95"] = percentile(latencies, 0.95)
    return metrics


def rank_questions(
    questions: list[Question], search: Callable[[str], Iterable[str]], on_question: Callable[[], None] | None = None
) -> list[RankedResult]:
    """Ask ``search`` every question, timing each call (query embedding included).

    ``search`` returns the source path of each chunk it found, best first. One search before the
    questions is not timed: loading the model and connecting are not query latency.
    """
    list(search("warm-up"))
    results = []
    for question in questions:
        started = time.perf_counter()
        sources = list(search(question.question))
        latency_ms = (time.perf_counter() - started) * 1000
        results.append(RankedResult(question.id, question.expected_source, distinct_sources(sources), latency_ms))
        if on_question:
            on_question()
    return results


def ragchat_search(collection: str, *, depth: int = SEARCH_DEPTH) -> Callable[[str], list[str]]:
    """The chat's own retrieval, narrowed to one collection, as a search ``rank_questions`` can time."""

    def search(text: str) -> list[str]:
        # Evaluation collections are private and owned by nobody: only the staff/system override reads them.
        chunks = retrieve(text, reader=Reader.system_override(), collections=[collection], top_k=depth)
        return [chunk.path for chunk in chunks]

    return search


def evaluate(
    questions: list[Question], *, collection: str, k: int = 10, on_question: Callable[[], None] | None = None
) -> tuple[dict[str, float], list[RankedResult]]:
    """Score the chat's retrieval on ``questions`` over ``collection``: metrics and per-question rankings."""
    search = ragchat_search(collection, depth=max(k, 10) * 5)
    results = rank_questions(questions, search, on_question=on_question)
    return compute_metrics(results), results
