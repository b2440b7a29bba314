"""Peer benchmark: ragchat's retrieval against langchain-postgres on the same corpus and questions.

What is measured, per system, on one corpus and its questions (default: ../shared/eval/django-docs):

- recall@1/5/10 and MRR@10 over *documents*: each question retrieves the best ``K_CHUNKS`` chunks,
  documents are ranked by their best chunk (distinct sources in order), recall@n counts the expected
  source within the first n documents, MRR@10 averages 1/rank (0 beyond rank 10). This is exactly
  how ``manage.py evaluate`` scores ragchat, with the same chunk depth (max(k, 10) * 5 = 50).
- query latency p50/p95 (nearest rank): embedding the question plus the search call, per question,
  after one warm-up query.
- before the questions, each system's tables get ``VACUUM (ANALYZE)`` (not timed as ingest), so
  that autovacuum, woken by the fresh rows, does not run during the timed questions.
- ingest chunks/s: chunks divided by the wall time of reading + splitting + embedding + inserting.
  For ragchat it is a timed ``manage.py import_documents`` subprocess into a fresh collection
  (process start and model load included), whose chunks are then counted and scored by
  ``manage.py evaluate --json`` (no re-import: every file is unchanged), and finally deleted.

The peers use LangChain's usual chunking (RecursiveCharacterTextSplitter 1000/200) and ragchat's own
MiniLMEmbeddings object, so their vectors are identical to ragchat's. They live in a separate
database (``peer_bench``) on the app's PostgreSQL server, whose peer tables are dropped at the start.

Run: cd /work/main && .venv/bin/python benchmarks/peer_benchmark.py [--limit-files 40] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.util
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "django-docs"
K_CHUNKS = 50  # chunks fetched per question; evaluate uses the same depth for k=10
VECTOR_SIZE = 384  # all-MiniLM-L6-v2
PEER_DB = "peer_bench"
STORE_TABLE = "peer_pgvectorstore"  # shared by the dense and hybrid PGVectorStore rows
V1_COLLECTION = "peer_bench"
V1_TABLES = ("langchain_pg_embedding", "langchain_pg_collection")
INGEST_BATCH = 512  # chunks per add_documents call, so progress can be reported
METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "retrieval_ms_p50", "retrieval_ms_p95")
SYSTEMS = {
    "pgvectorstore": "langchain-postgres PGVectorStore",
    "hybrid": "langchain-postgres PGVectorStore hybrid",
    "pgvector": "langchain-postgres PGVector",
    "ragchat": "ragchat",
}


@dataclasses.dataclass
class Result:
    system: str
    metrics: dict[str, float]
    chunks: int
    ingest_chunks_per_s: float
    notes: list[str] = dataclasses.field(default_factory=list)


def log(message: str) -> None:
    print(f"[peer-benchmark {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, help="Corpus folder (default: shared django-docs corpus).")
    parser.add_argument("--questions", type=Path, help="Questions JSONL (default: shared django-docs).")
    parser.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS))
    parser.add_argument("--limit-files", type=int, help="Smoke run: first N files plus every expected source.")
    parser.add_argument("--json", action="store_true", help="Also print one JSON line after the table.")
    return parser.parse_args()


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def select_files(corpus: Path, questions: list[dict], limit: int | None) -> list[str]:
    """Relative paths of the corpus's .txt files; with ``limit``, a subset that keeps every answer."""
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt") if p.is_file())
    if limit is None:
        return files
    return sorted(set(files[:limit]) | {q["expected_source"] for q in questions})


def materialise_subset(corpus: Path, files: list[str]) -> Path:
    """Copy a subset into a temporary folder so that ragchat's commands import exactly those files."""
    target = Path(tempfile.mkdtemp(prefix="peer-bench-corpus-"))
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(corpus / name, target / name)
    return target


def split_corpus(corpus: Path, files: list[str]) -> list:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = [(corpus / name).read_text(encoding="utf-8") for name in files]
    return splitter.create_documents(texts, metadatas=[{"source": name} for name in files])


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, as evaluate computes it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def score(rankings: list[list[str]], questions: list[dict], latencies_ms: list[float]) -> dict[str, float]:
    expected = [q["expected_source"] for q in questions]
    ranks = [r.index(e) + 1 if e in r else None for r, e in zip(rankings, expected, strict=True)]
    metrics = {f"recall@{n}": sum(1 for r in ranks if r and r <= n) / len(ranks) for n in (1, 5, 10)}
    metrics["mrr@10"] = sum(1 / r for r in ranks if r and r <= 10) / len(ranks)
    metrics["retrieval_ms_p50"] = percentile(latencies_ms, 0.50)
    metrics["retrieval_ms_p95"] = percentile(latencies_ms, 0.95)
    return metrics


def run_questions(search: Callable[[str], list], questions: list[dict]) -> dict[str, float]:
    """Time ``search`` (query embedding included) per question and score the document rankings."""
    search("warm-up")  # first-query costs (pool connect, model load) are not query latency
    rankings, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        docs = search(question["question"])
        latencies.append((time.perf_counter() - started) * 1000)
        rankings.append(list(dict.fromkeys(doc.metadata["source"] for doc in docs)))
    return score(rankings, questions, latencies)


def timed_ingest(add: Callable[[list], object], corpus: Path, files: list[str]) -> tuple[int, float]:
    """Split and add the corpus in batches; returns (chunks, chunks per second of wall time)."""
    started = time.perf_counter()
    docs = split_corpus(corpus, files)
    for start in range(0, len(docs), INGEST_BATCH):
        add(docs[start : start + INGEST_BATCH])
        log(f"  {min(start + INGEST_BATCH, len(docs))}/{len(docs)} chunks added")
    return len(docs), len(docs) / (time.perf_counter() - started)


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


def peer_url(params: dict, driver: str):
    from sqlalchemy.engine import URL

    host = params.get("host")
    query = {"host": host} if host and host.startswith("/") else {}  # Unix socket folder
    return URL.create(
        f"postgresql+{driver}",
        username=params.get("user"),
        password=params.get("password") or None,
        host=None if query else host,
        port=params.get("port"),
        database=PEER_DB,
        query=query,
    )


def reset_peer_db(params: dict) -> None:
    """Create the peer database if needed and drop the peer tables so every run starts fresh."""
    from django.db import connection
    from sqlalchemy import create_engine, text

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PEER_DB])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{PEER_DB}"')  # Django runs in autocommit
    engine = create_engine(peer_url(params, "psycopg"))
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        for table in (STORE_TABLE, *V1_TABLES):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


def vacuum_analyze_peer(params: dict, tables: tuple[str, ...]) -> float:
    """VACUUM (ANALYZE) the peer's tables; return the seconds it took. See settle_note."""
    from sqlalchemy import create_engine, text

    engine = create_engine(peer_url(params, "psycopg"), isolation_level="AUTOCOMMIT")
    started = time.perf_counter()
    with engine.connect() as conn:
        for table in tables:
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
    engine.dispose()
    return time.perf_counter() - started


def settle_note(seconds: float) -> str:
    # Without it, autovacuum wakes up after a fresh ingest and walks the new HNSW index while the
    # questions are timed, on the same 2 cores; every system gets the same treatment.
    return f"VACUUM (ANALYZE) after ingest in {seconds:.1f} s (not in ingest rate)"


def bench_pgvectorstore(params: dict, emb, corpus: Path, files: list[str], questions: list[dict], systems: list[str]):
    from django.conf import settings
    from langchain_postgres import PGEngine, PGVectorStore
    from langchain_postgres.v2.hybrid_search_config import HybridSearchConfig
    from langchain_postgres.v2.indexes import HNSWIndex, HNSWQueryOptions

    engine = PGEngine.from_connection_string(peer_url(params, "asyncpg"))
    # Defaults (english tsvector, weighted_sum_ranking 0.5/0.5) except the per-side depth, which
    # defaults to 4 and would cap the fused list far below the K_CHUNKS every other system gets.
    hybrid = HybridSearchConfig(primary_top_k=K_CHUNKS, secondary_top_k=K_CHUNKS)
    # Created with the hybrid config so the table has the tsvector column ("content_tsv"); the
    # hybrid store fills it on insert, the dense store just ignores it.
    engine.init_vectorstore_table(STORE_TABLE, VECTOR_SIZE, hybrid_search_config=hybrid)
    # ef_search as ragchat's (HNSW_EF_SEARCH): pgvector's default 40 returns < K_CHUNKS rows.
    options = HNSWQueryOptions(ef_search=settings.HNSW_EF_SEARCH)
    hybrid_store = PGVectorStore.create_sync(
        engine, emb, STORE_TABLE, hybrid_search_config=hybrid, index_query_options=options
    )
    dense_store = PGVectorStore.create_sync(engine, emb, STORE_TABLE, index_query_options=options)

    log(f"PGVectorStore: ingesting into {STORE_TABLE}")
    chunks, rate = timed_ingest(hybrid_store.add_documents, corpus, files)
    started = time.perf_counter()
    dense_store.apply_vector_index(HNSWIndex())  # cosine, m=16, ef_construction=64
    hybrid_store.apply_hybrid_search_index()  # GIN on content_tsv
    index_note = f"indexes built after ingest in {time.perf_counter() - started:.1f} s (not in ingest rate)"
    index_note += "; " + settle_note(vacuum_analyze_peer(params, (STORE_TABLE,)))
    shared_note = "ingest shared by the dense and hybrid rows (one table, tsvector filled on insert)"

    results = []
    if "pgvectorstore" in systems:
        log("PGVectorStore: questions (dense, HNSW)")
        metrics = run_questions(lambda q: dense_store.similarity_search(q, k=K_CHUNKS), questions)
        results.append(Result(SYSTEMS["pgvectorstore"], metrics, chunks, rate, [shared_note, index_note]))
    if "hybrid" in systems:
        log("PGVectorStore: questions (hybrid)")

        def hybrid_search(question: str) -> list:
            # Work around langchain-postgres#337: a search writes its query into the config's
            # fts_query, so reusing one config keyword-searches the first query forever.
            config = dataclasses.replace(hybrid, fts_query=question, fusion_function_parameters={})
            return hybrid_store.similarity_search(question, k=K_CHUNKS, hybrid_search_config=config)

        metrics = run_questions(hybrid_search, questions)
        results.append(Result(SYSTEMS["hybrid"], metrics, chunks, rate, [shared_note]))
    engine._run_as_sync(engine.close())
    return results


def bench_pgvector_v1(params: dict, emb, corpus: Path, files: list[str], questions: list[dict]) -> Result:
    from langchain_postgres import PGVector
    from sqlalchemy import create_engine

    engine = create_engine(peer_url(params, "psycopg"))
    # Defaults as users get them: cosine distance, JSONB metadata, untyped vector column, no index.
    store = PGVector(embeddings=emb, connection=engine, collection_name=V1_COLLECTION, use_jsonb=True)
    log("PGVector (v1): ingesting")
    chunks, rate = timed_ingest(store.add_documents, corpus, files)
    settled = settle_note(vacuum_analyze_peer(params, V1_TABLES))
    log("PGVector (v1): questions (exact scan)")
    metrics = run_questions(lambda q: store.similarity_search(q, k=K_CHUNKS), questions)
    engine.dispose()
    return Result(SYSTEMS["pgvector"], metrics, chunks, rate, ["no vector index (exact search)", settled])


def manage(*args: str) -> str:
    """Run a management command with the app's own interpreter; returns its stdout."""
    python = REPO / ".venv" / "bin" / "python"
    command = [str(python if python.exists() else sys.executable), "manage.py", *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def delete_collection(collection: str) -> None:
    """Chunks first: their foreign key cascades only in Django, not in the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM documents_chunk WHERE document_id IN "
            "(SELECT id FROM documents_document WHERE collection = %s)",
            [collection],
        )
        cursor.execute("DELETE FROM documents_document WHERE collection = %s", [collection])


def bench_ragchat(corpus: Path, questions_path: Path) -> Result:
    from django.db import connection

    collection = f"peer-bench-{uuid.uuid4().hex[:8]}"
    try:
        log(f"ragchat: import_documents into fresh collection {collection!r}")
        started = time.perf_counter()
        manage("import_documents", str(corpus), "--collection", collection, "-v", "0")
        elapsed = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM documents_chunk c JOIN documents_document d ON d.id = c.document_id "
                "WHERE d.collection = %s",
                [collection],
            )
            chunks = cursor.fetchone()[0]
            started = time.perf_counter()
            cursor.execute("VACUUM (ANALYZE) documents_chunk, documents_document")  # Django runs in autocommit
            settled = settle_note(time.perf_counter() - started)
        log("ragchat: evaluate --json (same collection, so nothing is re-imported)")
        args = ["--corpus", str(corpus), "--collection", collection, "--k", "10", "--json", "-v", "0"]
        report = json.loads(manage("evaluate", str(questions_path), *args).strip().splitlines()[-1])
    finally:
        delete_collection(collection)
    metrics = {name: report[name] for name in METRICS}
    note = "ingest = timed import_documents subprocess (process start + model load included)"
    return Result(SYSTEMS["ragchat"], metrics, chunks, chunks / elapsed, [note, settled])


def render_table(results: list[Result]) -> str:
    lines = [
        "| system | recall@1 | recall@5 | recall@10 | MRR@10 | query p50 ms | query p95 ms "
        "| ingest chunks/s | chunks |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        m = r.metrics
        lines.append(
            f"| {r.system} | {m['recall@1']:.3f} | {m['recall@5']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} "
            f"| {m['retrieval_ms_p50']:.1f} | {m['retrieval_ms_p95']:.1f} | {r.ingest_chunks_per_s:.1f} | {r.chunks} |"
        )
    return "\n".join(lines)


def run_systems(systems: list[str], corpus: Path, files: list[str], questions_path: Path) -> list[Result]:
    questions = load_questions(questions_path)
    params = setup_django()
    results = [bench_ragchat(corpus, questions_path)] if "ragchat" in systems else []
    peers = [s for s in systems if s != "ragchat"]
    if peers:
        from documents.embeddings import MiniLMEmbeddings

        emb = MiniLMEmbeddings()  # ragchat's own object: identical vectors
        emb.embed_query("warm-up")  # load the model now, so no peer's ingest time includes it
        reset_peer_db(params)
        if {"pgvectorstore", "hybrid"} & set(peers):
            results += bench_pgvectorstore(params, emb, corpus, files, questions, peers)
        if "pgvector" in peers:
            results.append(bench_pgvector_v1(params, emb, corpus, files, questions))
    order = list(SYSTEMS.values())
    return sorted(results, key=lambda r: order.index(r.system))


def print_report(header: dict, results: list[Result], as_json: bool) -> None:
    print(f"Command: `{header['command']}`  ")
    h = header
    print(f"Date: {h['date']}; corpus {h['corpus']} ({h['files']} files, {h['questions']} questions)  ")
    print(
        f"Peers retrieve {K_CHUNKS} chunks per question; documents ranked by their best chunk. 1-min load "
        f"average {header['load_start']:.1f} at start, {header['load_end']:.1f} at end ({os.cpu_count()} CPUs).\n"
    )
    print(render_table(results))
    print("\n" + "\n".join(f"- {r.system}: {note}" for r in results for note in r.notes))
    if as_json:
        print(json.dumps({**header, "results": [dataclasses.asdict(r) for r in results]}))


def main() -> int:
    args = parse_args()
    corpus = args.corpus or DEFAULT_DATA / "corpus"
    questions_path = args.questions or DEFAULT_DATA / "questions.jsonl"
    if not corpus.is_dir() or not questions_path.is_file():
        if args.corpus or args.questions:
            print(f"No such corpus folder or questions file: {corpus}, {questions_path}", file=sys.stderr)
            return 2
        print(f"Skipped: the shared evaluation data ({DEFAULT_DATA}) is not present.")
        return 0
    if set(args.systems) - {"ragchat"} and importlib.util.find_spec("langchain_postgres") is None:
        print("langchain-postgres is missing: see benchmarks/README.md for installing it.", file=sys.stderr)
        return 2

    questions = load_questions(questions_path)
    files = select_files(corpus, questions, args.limit_files)
    header = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "corpus": str(corpus),
        "files": len(files),
        "questions": len(questions),
        "load_start": os.getloadavg()[0],  # timings are only comparable on an otherwise idle machine
    }
    log(f"{len(files)} files, {header['questions']} questions, systems: {', '.join(args.systems)}")
    subset = materialise_subset(corpus, files) if args.limit_files is not None else None
    try:
        results = run_systems(args.systems, subset or corpus, files, questions_path)
    finally:
        if subset:
            shutil.rmtree(subset, ignore_errors=True)
    header["load_end"] = os.getloadavg()[0]
    print_report(header, results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
