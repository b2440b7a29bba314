"""The extractive answer's quality and cost: embedding every sentence (the old way) against the
word-overlap scoring of ``conversations/extractive.py``, side by side on the same passages.

For every question of the chosen evaluation sets (default: django-docs of ``../shared/eval``),
the chat's own retrieval runs once (``relevant(retrieve(...))``, the set's ``eval-<name>``
collection, imported first if needed, as ``evaluate_suite`` does); then each method composes the
extractive answer from those same passages. Measured per method:

- quoted from the expected document: the share of questions with at least one quote whose
  passage comes from the question's ``expected_source``;
- quotes in the answer: the share of all quotes that are sentences of the expected answer (the
  set's ``answer`` field, the text of the FAQ entry that answers the question);
- answer words quoted: the mean share of the expected answer's words (``extractive.terms``) that
  the quotes contain, which rewards choosing the informative sentences of the right passage;
- CPU ms (the process's CPU time, the model's threads included) and wall ms to compose the answer
  after retrieval, p50 and p95.

Retrieval decides the ceiling of the first two: both methods only choose among its passages, so
the table also gives the share of questions whose passages include the expected document at all.
Without the evaluation folder the script says so and exits 0.

Usage:
    DEBUG=true .venv/bin/python benchmarks/extractive_quality.py [--suite ../shared/eval]
        [--sets django-docs debian-faq] [--limit N] [--limit-files N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")

import django  # noqa: E402

django.setup()

from eval_subset import import_set  # noqa: E402

from conversations import extractive  # noqa: E402
from documents.retrieval import get_embeddings, relevant, retrieve  # noqa: E402
from documents.search import Reader, RetrievedChunk  # noqa: E402
from evaluation.report import QUESTIONS  # noqa: E402
from evaluation.scoring import percentile  # noqa: E402
from evaluation.suite import QUESTIONS_FILE, SuiteError, load_suite  # noqa: E402

DEFAULT_SUITE = ROOT.parent / "shared" / "eval"
QUOTE = re.compile(r"> (.+) \[(\d+)\]")


def embedding_quotes(question: str, passages: list[RetrievedChunk]) -> list[str]:
    """The old extractive answer, kept here as the yardstick: the question and every candidate
    sentence embedded, sentences ranked by cosine similarity to the question."""
    candidates = [
        (number, index, sentence)
        for number, passage in enumerate(passages[: extractive.EXTRACTIVE_PASSAGES], start=1)
        for index, sentence in enumerate(extractive.split_sentences(passage.text))
    ]
    if not candidates:
        return []
    embeddings = get_embeddings()
    question_vector = np.array(embeddings.embed_query(question))
    sentence_vectors = np.array(embeddings.embed_documents([sentence for _, _, sentence in candidates]))
    best = np.argsort(-(sentence_vectors @ question_vector))[: extractive.EXTRACTIVE_SENTENCES]
    chosen = sorted((candidates[i] for i in best), key=lambda item: (item[0], item[1]))
    return [f"> {sentence} [{number}]" for number, _, sentence in chosen]


METHODS: dict[str, Callable[[str, list[RetrievedChunk]], list[str]]] = {
    "embedding every sentence (before)": embedding_quotes,
    "word overlap + passage similarity (now)": extractive.extractive_quotes,
}


def answers_of(folder: Path) -> dict[str, str]:
    """Each question's expected answer text by id, where the set's lines give one."""
    lines = (json.loads(line) for line in (folder / QUESTIONS_FILE).read_text(encoding="utf-8").splitlines() if line)
    return {str(item["id"]): " ".join(item["answer"].split()) for item in lines if item.get("answer")}


def judge(quotes: list[str], passages: list[RetrievedChunk], expected_source: str, answer: str | None) -> dict:
    """What one answer's quotes are worth against the question's expected document and answer."""
    cited = [QUOTE.fullmatch(quote).groups() for quote in quotes]
    from_expected = any(passages[int(number) - 1].path == expected_source for _, number in cited)
    result = {"from_expected": from_expected, "quotes": len(cited)}
    if answer is not None:
        result["in_answer"] = sum(1 for sentence, _ in cited if sentence in answer)
        answer_words = extractive.terms(answer)
        quoted_words = extractive.terms(" ".join(sentence for sentence, _ in cited))
        result["answer_words"] = len(answer_words & quoted_words) / len(answer_words) if answer_words else 0.0
    return result


def compose_timed(method, question: str, passages: list[RetrievedChunk]) -> tuple[list[str], float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    quotes = method(question, passages)
    return quotes, (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def measure_set(eval_set, *, limit: int | None, limit_files: int | None) -> dict:
    import_set(eval_set, limit_files)
    answers = answers_of(eval_set.corpus.parent)
    questions = eval_set.questions[QUESTIONS][:limit]
    reader = Reader.system_override()
    rows = {name: {"judged": [], "cpu_ms": [], "wall_ms": []} for name in METHODS}
    retrieved_expected = 0
    for question in questions:
        passages = relevant(retrieve(question.question, reader=reader, collections=[eval_set.collection]))
        shown = passages[: extractive.EXTRACTIVE_PASSAGES]
        retrieved_expected += any(passage.path == question.expected_source for passage in shown)
        # The cheap method first: after the old one, the model's idle threads still spinning from its
        # embedding would count in the process's CPU time.
        for name, method in reversed(METHODS.items()):
            quotes, cpu_ms, wall_ms = compose_timed(method, question.question, passages)
            rows[name]["judged"].append(judge(quotes, passages, question.expected_source, answers.get(question.id)))
            rows[name]["cpu_ms"].append(cpu_ms)
            rows[name]["wall_ms"].append(wall_ms)
    return {
        "set": eval_set.name,
        "questions": len(questions),
        "expected_in_passages": round(retrieved_expected / len(questions), 4),
        "methods": [summary(name, row) for name, row in rows.items()],
    }


def summary(name: str, row: dict) -> dict:
    judged = row["judged"]
    with_answer = [item for item in judged if "in_answer" in item]
    quotes = sum(item["quotes"] for item in with_answer)
    return {
        "method": name,
        "quoted_from_expected": round(sum(item["from_expected"] for item in judged) / len(judged), 4),
        "quotes_in_answer": round(sum(item["in_answer"] for item in with_answer) / quotes, 4) if quotes else None,
        "answer_words_quoted": (
            round(sum(item["answer_words"] for item in with_answer) / len(with_answer), 4) if with_answer else None
        ),
        "cpu_ms_p50": round(percentile(row["cpu_ms"], 0.5), 2),
        "cpu_ms_p95": round(percentile(row["cpu_ms"], 0.95), 2),
        "wall_ms_p50": round(percentile(row["wall_ms"], 0.5), 2),
    }


def markdown_table(results: list[dict]) -> str:
    lines = [
        "| set (questions; expected document in the passages) | method | quoted from expected document | "
        "quotes in the answer | answer words quoted | CPU ms p50 | CPU ms p95 | wall ms p50 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        label = f"{result['set']} ({result['questions']}; {result['expected_in_passages']:.3f})"
        for row in result["methods"]:
            lines.append(
                f"| {label} | {row['method']} | {row['quoted_from_expected']:.3f} | {_share(row['quotes_in_answer'])} "
                f"| {_share(row['answer_words_quoted'])} | {row['cpu_ms_p50']} | {row['cpu_ms_p95']} "
                f"| {row['wall_ms_p50']} |"
            )
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE, help="folder of sets (default: %(default)s)")
    parser.add_argument("--sets", nargs="+", default=["django-docs"], help="sets to run (default: django-docs)")
    parser.add_argument("--limit", type=int, help="only the first N questions of each set (a smoke run)")
    parser.add_argument(
        "--limit-files", type=int, help="import only the first N files of each corpus and every expected source"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    if not args.suite.is_dir():
        print(f"No evaluation folder at {args.suite}: nothing to measure (skipped).")
        return
    try:
        sets = load_suite(args.suite, names=args.sets)
    except SuiteError as exc:
        raise SystemExit(str(exc)) from None
    get_embeddings().embed_documents(["warm-up"] * 8)  # loading the model is not composing an answer
    results = [measure_set(eval_set, limit=args.limit, limit_files=args.limit_files) for eval_set in sets]
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"results": results, "load_average": round(load, 2)}))
    else:
        print(markdown_table(results))
        print(f"\nload average {load:.2f} (timings from a busy machine are not comparable with an idle one's)")


if __name__ == "__main__":
    main()
