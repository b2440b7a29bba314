"""Retrieval evaluation: run questions through the chat's retrieval and score the rankings.

Metrics are over documents (distinct sources), as a person judges retrieval: did the
document that answers the question come back, and how high?
"""

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from documents.retrieval import get_embeddings, retrieve
from documents.search import Reader
from evaluation.evalset import Question


@dataclass(frozen=True)
class RankedResult:
    id: str
    expected_source: str
    ranked_sources: list[str]
    latency_ms: float


def distinct_sources(sources: Iterable[str]) -> list[str]:
    """Sources in order of their best chunk, each once."""
    return list(dict.fromkeys(sources))


def rank_question(question: Question, *, collection: str, depth: int) -> RankedResult:
    """Retrieve for one question exactly as the chat does, timing query embedding plus search."""
    started = time.perf_counter()
    # Evaluation collections are private and owned by nobody: only the staff/system override reads them.
    chunks = retrieve(question.question, reader=Reader.system_override(), collections=[collection], top_k=depth)
    latency_ms = (time.perf_counter() - started) * 1000
    return RankedResult(question.id, question.expected_source, distinct_sources(c.path for c in chunks), latency_ms)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation): a value that was really observed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def compute_metrics(results: list[RankedResult]) -> dict[str, float]:
    def rank_of(result: RankedResult) -> int | None:
        try:
            return result.ranked_sources.index(result.expected_source) + 1
        except ValueError:
            return None

    ranks = [rank_of(result) for result in results]
    count = len(results)
    metrics = {f"recall@{n}": sum(1 for r in ranks if r and r <= n) / count for n in (1, 5, 10)}
    metrics["mrr@10"] = sum(1 / r for r in ranks if r and r <= 10) / count
    latencies = [result.latency_ms for result in results]
    metrics["retrieval_ms_p50"] = percentile(latencies, 0.50)
    metrics["retrieval_ms_p95"] = percentile(latencies, 0.95)
    return metrics


def evaluate(
    questions: list[Question], *, collection: str, k: int, on_question: Callable[[], None] | None = None
) -> tuple[dict[str, float], list[RankedResult]]:
    # Chunks of one document crowd the ranking; fetch enough of them for k distinct sources.
    depth = max(k, 10) * 5
    get_embeddings().embed_query("warm-up")  # model load is not query latency
    results = []
    for question in questions:
        results.append(rank_question(question, collection=collection, depth=depth))
        if on_question:
            on_question()
    return compute_metrics(results), results
