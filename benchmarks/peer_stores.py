"""The peer side of ``peer_benchmark.py``: langchain-postgres' stores in their own database.

Each store ingests one set's files with LangChain's usual chunking (RecursiveCharacterTextSplitter
1000/200) and ragchat's own MiniLMEmbeddings object, so the vectors are identical to ragchat's, then
answers every question of every kind through ``evaluation.scoring.rank_questions``, the code that
times and ranks ragchat's. The stores live in a separate database (``peer_bench``) on the app's
PostgreSQL server; their tables are dropped before each set and the last set's are kept.

Import this module only after ``peer_benchmark.setup_django()``: it uses the app's scoring.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

from langchain_core.embeddings import Embeddings

from evaluation.report import Row
from evaluation.scoring import SEARCH_DEPTH, rank_questions
from evaluation.suite import EvalSet

K_CHUNKS = SEARCH_DEPTH  # chunks fetched per question, as ragchat's evaluation fetches
VECTOR_SIZE = 384  # all-MiniLM-L6-v2
PEER_DB = "peer_bench"
STORE_TABLE = "peer_pgvectorstore"  # shared by the dense and hybrid PGVectorStore rows
V1_COLLECTION = "peer_bench"
V1_TABLES = ("langchain_pg_embedding", "langchain_pg_collection")
INGEST_BATCH = 512  # chunks per add_documents call, so progress can be reported
SYSTEMS = {
    "pgvectorstore": "langchain-postgres PGVectorStore",
    "hybrid": "langchain-postgres PGVectorStore hybrid",
    "pgvector": "langchain-postgres PGVector",
    "ragchat": "ragchat",
}


@dataclasses.dataclass
class Ingest:
    system: str
    set_name: str
    chunks: int
    chunks_per_s: float
    note: str  # how the system ingests, the same on every set
    settled: str = ""  # what was done after the ingest, untimed, and how long it took


class ReusedVectors(Embeddings):
    """Embeddings that remember the vector of every chunk text, for ``--reuse-vectors``.

    PGVectorStore and PGVector split a set into the same chunks, so with this the second store
    inserts the first one's vectors instead of computing them again: a quality run of the whole
    suite then embeds each set once for both peers. The second store's ingest rate measures
    splitting and inserting only, and its ingest note says so.
    """

    def __init__(self, embeddings):
        self.embeddings = embeddings
        self.vectors: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = [text for text in dict.fromkeys(texts) if text not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.embeddings.embed_documents(missing), strict=True))
        return [self.vectors[text] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embeddings.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


def log(message: str) -> None:
    print(f"[peer-benchmark {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def split_corpus(corpus: Path, files: list[str]) -> list:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = [(corpus / name).read_text(encoding="utf-8") for name in files]
    return splitter.create_documents(texts, metadatas=[{"source": name} for name in files])


def score_store(system: str, eval_set: EvalSet, search: Callable[[str], list]) -> list[Row]:
    """One row per kind of question; ``search`` returns LangChain documents best first."""
    rows = []
    for kind, questions in eval_set.questions.items():
        log(f"{system}: {eval_set.name} {kind} ({len(questions)})")
        results = rank_questions(questions, lambda q: [doc.metadata["source"] for doc in search(q)])
        rows.append(Row.scored(system=system, set_name=eval_set.name, kind=kind, results=results))
    return rows


def timed_ingest(add: Callable[[list], object], corpus: Path, files: list[str]) -> tuple[int, float]:
    """Split and add the corpus in batches; returns (chunks, chunks per second of wall time)."""
    started = time.perf_counter()
    docs = split_corpus(corpus, files)
    for start in range(0, len(docs), INGEST_BATCH):
        add(docs[start : start + INGEST_BATCH])
        log(f"  {min(start + INGEST_BATCH, len(docs))}/{len(docs)} chunks added")
    return len(docs), len(docs) / (time.perf_counter() - started)


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
    """Create the peer database if needed and drop the peer tables so every set starts fresh."""
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


def bench_pgvectorstore(
    params: dict, emb, eval_set: EvalSet, files: list[str], systems: list[str]
) -> tuple[list[Row], list[Ingest]]:
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

    log(f"PGVectorStore: ingesting {eval_set.name} into {STORE_TABLE}")
    chunks, rate = timed_ingest(hybrid_store.add_documents, eval_set.corpus, files)
    started = time.perf_counter()
    dense_store.apply_vector_index(HNSWIndex())  # cosine, m=16, ef_construction=64
    hybrid_store.apply_hybrid_search_index()  # GIN on content_tsv
    index_note = f"indexes built after ingest in {time.perf_counter() - started:.1f} s (not in ingest rate)"
    index_note += "; " + settle_note(vacuum_analyze_peer(params, (STORE_TABLE,)))
    shared_note = "ingest shared by the dense and hybrid rows (one table, tsvector filled on insert)"

    rows, ingests = [], []
    if "pgvectorstore" in systems:
        rows += score_store(SYSTEMS["pgvectorstore"], eval_set, lambda q: dense_store.similarity_search(q, k=K_CHUNKS))
        ingests.append(Ingest(SYSTEMS["pgvectorstore"], eval_set.name, chunks, rate, shared_note, index_note))
    if "hybrid" in systems:

        def hybrid_search(question: str) -> list:
            # Work around langchain-postgres#337: a search writes its query into the config's
            # fts_query, so reusing one config keyword-searches the first query forever.
            config = dataclasses.replace(hybrid, fts_query=question, fusion_function_parameters={})
            return hybrid_store.similarity_search(question, k=K_CHUNKS, hybrid_search_config=config)

        rows += score_store(SYSTEMS["hybrid"], eval_set, hybrid_search)
        ingests.append(Ingest(SYSTEMS["hybrid"], eval_set.name, chunks, rate, shared_note))
    engine._run_as_sync(engine.close())
    return rows, ingests


def bench_pgvector_v1(params: dict, emb, eval_set: EvalSet, files: list[str]) -> tuple[list[Row], Ingest]:
    from langchain_postgres import PGVector
    from sqlalchemy import create_engine

    engine = create_engine(peer_url(params, "psycopg"))
    # Defaults as users get them: cosine distance, JSONB metadata, untyped vector column, no index.
    store = PGVector(embeddings=emb, connection=engine, collection_name=V1_COLLECTION, use_jsonb=True)
    log(f"PGVector (v1): ingesting {eval_set.name}")
    chunks, rate = timed_ingest(store.add_documents, eval_set.corpus, files)
    settled = settle_note(vacuum_analyze_peer(params, V1_TABLES))
    rows = score_store(SYSTEMS["pgvector"], eval_set, lambda q: store.similarity_search(q, k=K_CHUNKS))
    engine.dispose()
    note = "no vector index (exact search)"
    if isinstance(emb, ReusedVectors):
        note += "; --reuse-vectors: PGVectorStore's vectors inserted, so the rate is splitting + inserting only"
    return rows, Ingest(SYSTEMS["pgvector"], eval_set.name, chunks, rate, note, settled)
