"""Where a question's retrieval time goes: the query embedding, the SQL execution, and the rest.

For each question of an evaluation set (default: django-docs of ``../shared/eval``, imported into
its ``eval-<name>`` collection first if needed), one after the other, 20 ms apart:

1. embedding: ``get_embeddings().embed_query(question)``, what retrieval embeds;
2. SQL execution: the search statement's own ``Execution Time`` as PostgreSQL reports it
   (``EXPLAIN (ANALYZE, TIMING OFF)`` of the statement ``search_chunks`` sends, same parameters),
   with its ``Planning Time`` beside it;
3. retrieval: ``retrieve(question, ...)`` end to end, as the chat calls it (``RETRIEVAL_TOP_K``
   passages, the set's collection), after ``relevant``; and the CPU time this process spent on
   it, the 20 ms after it included (threads the model leaves spinning count).

It prints the p50 of each, and the ratio retrieval p50 / (embedding p50 + SQL execution p50):
1.0 would be retrieval at its floor, nothing spent besides the model and the database's work.
``--compare-with REV`` runs the same measurement on the code of another commit (a ``git worktree``
checkout in a temporary folder, the same database and ONNX export), rounds of the two alternating
so a change in the machine's load falls on both, and prints the two rows. Without the evaluation
folder the script says so and exits 0.

Usage:
    DEBUG=false SECRET_KEY=x SECURE_SSL_REDIRECT=false .venv/bin/python benchmarks/retrieval_profile.py
        [--set ../shared/eval/django-docs] [--rounds 3] [--limit N] [--limit-files N]
        [--compare-with HEAD~3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SET = ROOT.parent / "shared" / "eval" / "django-docs"


def setup_django(code: Path) -> None:
    """Django set up on the code in ``code`` (this checkout or another commit's)."""
    sys.path.insert(0, str(code))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
    import django

    django.setup()


def measure(questions: list[str], collection: str) -> dict[str, list[float]]:
    """The timings of each question, in ms, its three parts one after the other.

    Taken together, so a change in the machine's load falls on all three; apart, 20 ms between
    them, so the SQL is not slowed by the model's threads still spinning after the embedding.
    """
    from documents import search
    from documents.retrieval import get_embeddings, relevant, retrieve
    from documents.search import Reader, SearchParams, build_search_sql, search_values

    reader, params = Reader.system_override(), SearchParams.from_settings()
    explain = "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + build_search_sql(params)
    times = {"embedding": [], "sql_execution": [], "sql_planning": [], "retrieval": [], "retrieval_cpu": []}
    for question in questions:
        started = time.perf_counter()
        vector = get_embeddings().embed_query(question)
        times["embedding"].append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
        values = search_values(
            params, query_vector=vector, query_text=question, reader=reader, collections=[collection]
        )
        plan = explained(search, explain, values)
        times["sql_execution"].append(plan[0]["Execution Time"])
        times["sql_planning"].append(plan[0]["Planning Time"])
        time.sleep(0.02)
        started, cpu = time.perf_counter(), time.process_time()
        relevant(retrieve(question, reader=reader, collections=[collection]))
        times["retrieval"].append((time.perf_counter() - started) * 1000)
        # The 20 ms after it count too: threads the model left spinning are this question's cost.
        time.sleep(0.02)
        times["retrieval_cpu"].append((time.process_time() - cpu) * 1000)
    return times


def explained(search, explain: str, values: dict) -> list[dict]:
    """The JSON plan of ``explain``, run as ``search_chunks`` runs its statement in that code."""
    if hasattr(search, "search_rows"):
        return search.search_rows(explain, values)[0][0]
    from django.db import connection  # before search_rows, searches went through Django's cursor

    with connection.cursor() as cursor:
        cursor.execute(explain, values)
        return cursor.fetchone()[0]


def run_here(args: argparse.Namespace, rounds: int) -> dict[str, list[float]]:
    """Measure with the code Django was set up on: ``rounds`` passes over the set's questions."""
    from eval_subset import import_set

    from documents.retrieval import get_embeddings, retrieve
    from documents.search import Reader
    from evaluation.suite import load_set

    eval_set = load_set(args.set)
    import_set(eval_set, args.limit_files)
    questions = [question.question for question in eval_set.questions["questions"]][: args.limit]
    get_embeddings().embed_query("warm-up")  # the model's load and the first connection are not a question's
    retrieve("warm-up", reader=Reader.system_override(), collections=[eval_set.collection])
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, values in measure(questions, eval_set.collection).items():
            times.setdefault(name, []).extend(values)
    return times


def summary(label: str, times: dict[str, list[float]]) -> dict:
    p50 = {name: statistics.median(values) for name, values in times.items()}
    floor = p50["embedding"] + p50["sql_execution"]
    return {
        "code": label,
        "questions": len(times["retrieval"]),
        **{f"{name}_ms_p50": round(value, 2) for name, value in p50.items()},
        "ratio": round(p50["retrieval"] / floor, 2),
    }


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| code | timings | embedding p50 ms | SQL execution p50 ms | (SQL planning p50 ms) | retrieval p50 ms "
        "| retrieval / (embedding + SQL) | retrieval CPU p50 ms (this process) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['code']} | {row['questions']} | {row['embedding_ms_p50']} | {row['sql_execution_ms_p50']} "
            f"| {row['sql_planning_ms_p50']} | {row['retrieval_ms_p50']} | {row['ratio']} "
            f"| {row['retrieval_cpu_ms_p50']} |"
        )
    return "\n".join(lines)


def checkout(rev: str, folder: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), rev], check=True,
                   capture_output=True)  # fmt: skip


def run_other(code: Path, args: argparse.Namespace) -> dict[str, list[float]]:
    """One round of the measurement in a fresh process on ``code``, against this checkout's database
    and ONNX export (the other checkout has neither)."""
    from django.conf import settings

    env = {**os.environ, "EMBEDDED_PGDATA": str(settings.EMBEDDED_PGDATA),
           "EMBEDDING_ONNX_DIR": str(settings.EMBEDDING_ONNX_DIR)}  # fmt: skip
    command = [sys.executable, __file__, "--code", str(code), "--set", str(args.set), "--rounds", "1", "--raw"]
    for option, value in (("--limit", args.limit), ("--limit-files", args.limit_files)):
        if value is not None:
            command += [option, str(value)]
    output = subprocess.run(command, env=env, cwd=code, capture_output=True, text=True, check=True).stdout
    return json.loads(output.splitlines()[-1])


def compare(args: argparse.Namespace) -> list[dict]:
    here: dict[str, list[float]] = {}
    other: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="retrieval-profile-") as temp:
        folder = Path(temp) / "old"
        checkout(args.compare_with, folder)
        try:
            for _ in range(args.rounds):
                for times, new in ((other, run_other(folder, args)), (here, run_here(args, 1))):
                    for name, values in new.items():
                        times.setdefault(name, []).extend(values)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], check=False)
    return [summary(args.compare_with, other), summary("this checkout", here)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="evaluation set folder (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions (default: %(default)s)")
    parser.add_argument("--limit", type=int, help="only the first N questions (a smoke run)")
    parser.add_argument("--limit-files", type=int, help="import only the first N files and every expected source")
    parser.add_argument("--compare-with", metavar="REV", help="also measure the code of this git commit")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    # Internal: how --compare-with runs the other commit's code in a process of its own.
    parser.add_argument("--code", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.set.is_dir():
        print(f"No evaluation set at {args.set}: nothing to measure (skipped).")
        return
    setup_django(args.code)
    if args.raw:
        print(json.dumps(run_here(args, args.rounds)))
        return
    here = None if args.compare_with else summary("this checkout", run_here(args, args.rounds))
    rows = compare(args) if args.compare_with else [here]
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"rows": rows, "load_average": round(load, 2)}))
    else:
        print(markdown_table(rows))
        print(f"\nload average {load:.2f} (timings from a busy machine are not comparable with an idle one's)")


if __name__ == "__main__":
    main()
