"""Peer benchmark: ragchat's retrieval against langchain-postgres on the same sets of questions.

What is measured, per system, on one corpus and its questions (default: ../shared/eval/django-docs)
or on every set of a suite folder (``--suite ../shared/eval``: each a folder with ``corpus/`` and
``questions.jsonl``), and with ``--headings`` also on section headings of each set's long pages:

- recall@1/5/10 and MRR@10 over *documents*: each question retrieves the best 50 chunks, documents
  are ranked by their best chunk (distinct sources in order), recall@n counts the expected source
  within the first n documents, MRR@10 averages 1/rank (0 beyond rank 10). Every system is timed
  and scored by ``evaluation.scoring.rank_questions``, the code behind ``manage.py evaluate`` and
  ``evaluate_suite``, and the table is ``evaluation.report``'s: per set, then macro averages
  (the mean of the sets' values, each set counting once).
- query latency p50/p95 (nearest rank): embedding the question plus the search call, per question,
  after one untimed warm-up search.
- before the questions, each system's tables get ``VACUUM (ANALYZE)`` (not timed as ingest), so
  that autovacuum, woken by the fresh rows, does not run during the timed questions.
- ingest chunks/s: chunks divided by the wall time of reading + splitting + embedding + inserting.
  For ragchat it is a timed ``manage.py import_documents`` subprocess into a fresh collection
  (process start and model load included), whose questions are then scored in this process on
  that collection, which is deleted after its set.

Each set is measured alone: the peers' tables are dropped before it (see ``peer_stores.py``) and
ragchat's collection is made for it.

Run: cd /work/main && /tmp/peer-venv/bin/python benchmarks/peer_benchmark.py [--suite ../shared/eval] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "django-docs"
SYSTEM_KEYS = ("pgvectorstore", "hybrid", "pgvector", "ragchat")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, help="Folder of evaluation sets: one table for all of them.")
    parser.add_argument("--sets", nargs="+", metavar="NAME", help="With --suite: only these sets.")
    parser.add_argument("--corpus", type=Path, help="One corpus folder (default: shared django-docs corpus).")
    parser.add_argument("--questions", type=Path, help="Its questions JSONL (default: shared django-docs).")
    parser.add_argument("--headings", action="store_true", help="Also heading questions of each set's long pages.")
    parser.add_argument("--systems", nargs="+", choices=SYSTEM_KEYS, default=list(SYSTEM_KEYS))
    parser.add_argument("--limit-files", type=int, help="Smoke run: per set, first N files plus every expected source.")
    parser.add_argument("--json", action="store_true", help="Also print one JSON line after the table.")
    parser.add_argument(
        "--reuse-vectors",
        action="store_true",
        help="For quality runs: PGVector inserts the vectors PGVectorStore computed for the same chunks "
        "(one embedding pass per set for both peers; PGVector's ingest rate then excludes embedding).",
    )
    args = parser.parse_args()
    if args.suite and (args.corpus or args.questions):
        parser.error("--suite runs every set of a folder; --corpus and --questions name one set")
    if args.sets and not args.suite:
        parser.error("--sets chooses sets of a --suite")
    return args


def setup_django() -> dict:
    """Start (or join) the app's database server and return libpq parameters for it.

    The embedded server stops when the last process using it exits, so this process keeps it
    alive for the peers simply by having connected through Django.
    """
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")
    import django

    django.setup()
    from django.db import connection

    return connection.get_connection_params()  # embedded: host is the server's socket folder


def load_sets(args: argparse.Namespace) -> list:
    """The sets to run, checked like evaluate_suite checks them (a SuiteError names every fault)."""
    from evaluation.evalset import load_questions
    from evaluation.report import QUESTIONS
    from evaluation.suite import EvalSet, SuiteError, load_suite, set_name_of, with_headings

    if args.suite:
        return load_suite(args.suite, names=args.sets, headings=args.headings)
    corpus = args.corpus or DEFAULT_DATA / "corpus"
    if not corpus.is_dir():
        raise SuiteError(f"No such corpus folder: {corpus}")
    questions = load_questions(args.questions or DEFAULT_DATA / "questions.jsonl")
    return [with_headings(EvalSet(set_name_of(corpus), corpus, {QUESTIONS: questions}), args.headings)]


def select_files(eval_set, limit: int | None) -> list[str]:
    """Relative paths of the set's .txt files; with ``limit``, a subset that keeps every answer."""
    corpus = eval_set.corpus
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt") if p.is_file())
    if limit is None:
        return files
    expected = {q.expected_source for questions in eval_set.questions.values() for q in questions}
    return sorted(set(files[:limit]) | expected)


def materialise_subset(corpus: Path, files: list[str]) -> Path:
    """Copy a subset into a temporary folder so that ragchat's commands import exactly those files."""
    target = Path(tempfile.mkdtemp(prefix="peer-bench-corpus-"))
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / name, target / name)
    return target


def manage(*args: str) -> str:
    """Run a management command with the app's own interpreter; returns its stdout."""
    python = REPO / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else sys.executable), "manage.py", *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def bench_ragchat(eval_set) -> tuple[list, object]:
    from django.db import connection
    from peer_stores import SYSTEMS, Ingest, log, settle_note

    from documents.collections import collection_delete
    from documents.models import Chunk, Collection
    from evaluation.report import Row
    from evaluation.scoring import evaluate

    collection = f"peer-bench-{uuid.uuid4().hex[:8]}"
    rows = []
    try:
        log(f"ragchat: import_documents {eval_set.name} into fresh collection {collection!r}")
        started = time.perf_counter()
        manage("import_documents", str(eval_set.corpus), "--collection", collection, "-v", "0")
        elapsed = time.perf_counter() - started
        chunks = Chunk.objects.filter(collection=collection).count()
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute("VACUUM (ANALYZE) documents_chunk, documents_document")  # Django runs in autocommit
            settled = settle_note(time.perf_counter() - started)
        for kind, questions in eval_set.questions.items():
            log(f"ragchat: {eval_set.name} {kind} ({len(questions)})")
            _, results = evaluate(questions, collection=collection)
            rows.append(Row.scored(system=SYSTEMS["ragchat"], set_name=eval_set.name, kind=kind, results=results))
    finally:
        found = Collection.objects.filter(name=collection).first()
        if found:
            collection_delete(collection=found)
    note = "ingest = timed import_documents subprocess (process start + model load included)"
    return rows, Ingest(SYSTEMS["ragchat"], eval_set.name, chunks, chunks / elapsed, note, settled)


def run_set(
    params: dict, emb, eval_set, files: list[str], systems: list[str], reuse_vectors: bool
) -> tuple[list, list]:
    """Every system on one set: its rows (one per kind of question) and how fast it ingested."""
    from peer_stores import ReusedVectors, bench_pgvector_v1, bench_pgvectorstore, reset_peer_db

    if reuse_vectors:
        emb = ReusedVectors(emb)  # a new one per set: one set's chunks at a time in memory

    rows, ingests = [], []
    if "ragchat" in systems:
        found, ingest = bench_ragchat(eval_set)
        rows, ingests = rows + found, ingests + [ingest]
    peers = [s for s in systems if s != "ragchat"]
    if peers:
        reset_peer_db(params)
    if {"pgvectorstore", "hybrid"} & set(peers):
        found, peer_ingests = bench_pgvectorstore(params, emb, eval_set, files, peers)
        rows, ingests = rows + found, ingests + peer_ingests
    if "pgvector" in peers:
        found, ingest = bench_pgvector_v1(params, emb, eval_set, files)
        rows, ingests = rows + found, ingests + [ingest]
    return rows, ingests


def ingest_table(ingests: list) -> str:
    lines = ["| system | set | chunks | ingest chunks/s |", "|---|---|---|---|"]
    lines += [f"| {i.system} | {i.set_name} | {i.chunks} | {i.chunks_per_s:.1f} |" for i in ingests]
    return "\n".join(lines)


def print_report(header: dict, rows: list, ingests: list, as_json: bool) -> None:
    from peer_stores import K_CHUNKS, SYSTEMS

    from evaluation.report import render_table, table_json

    order = list(SYSTEMS.values())
    rows = sorted(rows, key=lambda row: order.index(row.system))  # the table keeps this order within a set
    ingests = sorted(ingests, key=lambda ingest: (ingest.set_name, order.index(ingest.system)))
    h = header
    print(f"Command: `{h['command']}`  ")
    print(f"Date: {h['date']}; sets: {', '.join(f'{s} ({n} files)' for s, n in h['files'].items())}  ")
    print(
        f"Every system retrieves {K_CHUNKS} chunks per question; documents ranked by their best chunk. 1-min load "
        f"average {h['load_start']:.1f} at start, {h['load_end']:.1f} at end ({os.cpu_count()} CPUs).\n"
    )
    print(render_table(rows) + "\n")
    print(ingest_table(ingests))
    notes = dict.fromkeys(f"- {i.system}: {i.note}" for i in ingests)
    settled = [f"- {i.system} on {i.set_name}: {i.settled}" for i in ingests if i.settled]
    print("\n" + "\n".join([*notes, *settled]))
    if as_json:
        print(json.dumps({**header, **table_json(rows), "ingest": [dataclasses.asdict(i) for i in ingests]}))


def main() -> int:
    args = parse_args()
    if not args.suite and not args.corpus and not args.questions and not DEFAULT_DATA.is_dir():
        print(f"Skipped: the shared evaluation data ({DEFAULT_DATA}) is not present.")
        return 0
    if set(args.systems) - {"ragchat"} and importlib.util.find_spec("langchain_postgres") is None:
        print("langchain-postgres is missing: see benchmarks/README.md for installing it.", file=sys.stderr)
        return 2
    params = setup_django()
    from peer_stores import log

    from documents.embeddings import MiniLMEmbeddings
    from evaluation.evalset import QuestionFileError
    from evaluation.suite import SuiteError

    try:
        sets = load_sets(args)
    except (SuiteError, QuestionFileError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    header = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "files": {},
        "load_start": os.getloadavg()[0],  # timings are only comparable on an otherwise idle machine
    }
    emb = MiniLMEmbeddings()  # ragchat's own object: identical vectors
    emb.embed_query("warm-up")  # load the model now, so no peer's ingest time includes it
    rows, ingests = [], []
    for number, eval_set in enumerate(sets, start=1):
        files = select_files(eval_set, args.limit_files)
        header["files"][eval_set.name] = len(files)
        counts = ", ".join(f"{len(q)} {kind}" for kind, q in eval_set.questions.items())
        log(f"[{number}/{len(sets)}] {eval_set.name}: {len(files)} files, {counts}; systems: {', '.join(args.systems)}")
        subset = materialise_subset(eval_set.corpus, files) if args.limit_files is not None else None
        try:
            found, found_ingests = run_set(
                params,
                emb,
                dataclasses.replace(eval_set, corpus=subset or eval_set.corpus),
                files,
                args.systems,
                args.reuse_vectors,
            )
        finally:
            if subset:
                shutil.rmtree(subset, ignore_errors=True)
        rows, ingests = rows + found, ingests + found_ingests
    header["load_end"] = os.getloadavg()[0]
    print_report(header, rows, ingests, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
