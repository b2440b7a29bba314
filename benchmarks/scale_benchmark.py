"""Scale benchmark for ragchat's vector search: HNSW latency and recall at 100k / 1M chunks.

What is measured
    A table ``scale_chunks(id bigint, embedding vector(384))`` mirroring the app's chunk embedding
    column is filled with synthetic vectors (COPY, binary), then an HNSW index with
    ``vector_cosine_ops`` and the app's migration parameters (m=16, ef_construction=64 by default)
    is built. For each ef_search value the same query the app runs,
    ``ORDER BY embedding <=> q LIMIT 10``, is timed as a Python round trip, and its top 10 is
    compared with the exact top 10 (numpy, brute force) to give recall@10 = |HNSW ∩ exact| / 10.
    Latencies are p50/p95 by nearest rank. Before each timed pass the whole query set runs once
    untimed, so the pages it touches are in shared buffers / the OS page cache: the numbers are
    warm-cache latencies, the steady state of a server that has been answering questions.

Why synthetic data looks the way it does
    Uniform random 384-d vectors are a worst case for any ANN index (every point is almost equally
    far from every other) and unlike text embeddings, which are clustered by topic and have a low
    intrinsic dimension. So vectors are drawn from a Gaussian mixture: 2,000 unit-length topic
    centres with log-normally uneven topic sizes, plus noise whose per-axis spread decays as
    1/sqrt(axis) (a participation ratio of ~26 dimensions: topics vary along a few directions
    only), scaled to 0.7 of the centre's length, then L2-normalised. Same-topic pairs then have
    cosine ~0.65 and different topics ~0; a query's nearest neighbour is at cosine ~0.75.
    Queries are fresh draws from the same mixture. The seed is fixed, and the vectors are cached
    as .npy so reruns reuse them (and the filled table).

The benchmark uses its own database (default ``ragchat_scale``), never the app's tables.

Usage:
    cd /work/main && DEBUG=true .venv/bin/python benchmarks/scale_benchmark.py \
        [--chunks 100000 | --million] [--queries 200] [--ef-search 40,100] [--m 16] \
        [--ef-construction 64] [--rebuild] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragchat.settings")

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402
from psycopg import sql  # noqa: E402

DIMS, K = 384, 10
N_CLUSTERS, NOISE_NORM = 2_000, 0.7
DATA_VERSION = 1  # bump when the generator changes, so stale caches and filled tables are not reused
TABLE, INDEX = "scale_chunks", "scale_chunks_embedding_hnsw"
BLOCK = 50_000  # rows per generation / COPY / ground-truth block: bounds memory at 1M rows
SEARCH_SQL = f"SELECT id FROM {TABLE} ORDER BY embedding <=> %b::vector LIMIT {K}"


@dataclass(frozen=True)
class Mixture:
    centres: np.ndarray  # (N_CLUSTERS, DIMS), unit length
    weights: np.ndarray  # topic probabilities
    spread: np.ndarray  # per-axis noise standard deviation

    @classmethod
    def from_seed(cls, seed: int) -> Mixture:
        rng = np.random.default_rng(seed)
        centres = normalise(rng.standard_normal((N_CLUSTERS, DIMS)))
        weights = rng.lognormal(0.0, 1.0, N_CLUSTERS)
        decay = 1.0 / np.sqrt(np.arange(1, DIMS + 1))
        return cls(centres, weights / weights.sum(), decay * NOISE_NORM / np.linalg.norm(decay))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        topics = rng.choice(N_CLUSTERS, size=n, p=self.weights)
        points = self.centres[topics] + rng.standard_normal((n, DIMS)) * self.spread
        return normalise(points).astype(np.float32)


def normalise(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def corpus_and_queries(n: int, n_queries: int, seed: int, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return the (memory-mapped, cached) corpus and the queries; separate RNG streams, one mixture."""
    model_seed, corpus_seed, query_seed = np.random.SeedSequence(seed).spawn(3)
    mixture = Mixture.from_seed(model_seed.generate_state(1)[0])
    queries = mixture.sample(np.random.default_rng(query_seed), n_queries)
    path = cache_dir / f"scale_v{DATA_VERSION}_seed{seed}_n{n}.npy"
    if not path.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npy")  # renamed when complete, so a crash leaves no bad cache
        out = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(n, DIMS))
        rng = np.random.default_rng(corpus_seed)
        for start in range(0, n, BLOCK):
            out[start : start + BLOCK] = mixture.sample(rng, min(BLOCK, n - start))
        out.flush()
        del out
        os.replace(partial, path)
    return np.load(path, mmap_mode="r"), queries


def connection_params() -> dict:
    db = settings.DATABASES["default"]
    if db.get("PGDATA"):
        # Embedded server: this call starts it (or joins the running one) and keeps it up while we run.
        from ragchat.embedded_postgres.base import socket_dir_for

        return {"host": socket_dir_for(db["PGDATA"]), "user": db.get("USER") or "postgres"}
    keys = {"host": "HOST", "port": "PORT", "user": "USER", "password": "PASSWORD"}
    return {key: db[name] for key, name in keys.items() if db.get(name)}


def connect(dbname: str) -> psycopg.Connection:
    admin_db = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(dbname=admin_db, autocommit=True, **connection_params()) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone():
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    conn = psycopg.connect(dbname=dbname, autocommit=True, **connection_params())
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    return conn


def comment_of(conn: psycopg.Connection, relation: str) -> dict:
    """Metadata this script stores as a JSON comment on its table / index ({} if absent)."""
    row = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (relation,)).fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def set_comment(conn: psycopg.Connection, kind: str, relation: str, meta: dict) -> None:
    stmt = sql.SQL("COMMENT ON {} {} IS {}").format(
        sql.SQL(kind), sql.Identifier(relation), sql.Literal(json.dumps(meta))
    )
    conn.execute(stmt)


def copy_payload(first_id: int, block: np.ndarray) -> bytes:
    """One binary COPY stream for (id, embedding) rows, built by numpy instead of row by row."""
    # Per row: field count, then (length, value) per field; a vector is int16 dim, int16 unused,
    # float32s. All big-endian, as COPY BINARY and pgvector's vector_recv expect.
    fields = [("nfields", ">i2"), ("id_len", ">i4"), ("id", ">i8"), ("vec_len", ">i4")]
    row = np.dtype(fields + [("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (DIMS,))])
    rows = np.zeros(len(block), dtype=row)
    rows["nfields"], rows["id_len"], rows["vec_len"], rows["dim"] = 2, 8, 4 + 4 * DIMS, DIMS
    rows["id"] = np.arange(first_id, first_id + len(block))
    rows["vec"] = block
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header-extension length
    return header + rows.tobytes() + b"\xff\xff"  # trailer: field count -1


def ensure_table(conn: psycopg.Connection, vectors: np.ndarray, data_meta: dict, rebuild: bool) -> dict:
    """Load the corpus unless an identical table is already there; return its metadata (with load_s)."""
    meta = comment_of(conn, TABLE)
    if not rebuild and {k: meta.get(k) for k in data_meta} == data_meta:
        return meta | {"reused": True}
    started = time.perf_counter()
    with conn.transaction():  # one transaction: an interrupted load leaves no half-filled table behind
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.execute(f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, embedding vector({DIMS}))")
        with conn.cursor() as cur:
            for start in range(0, len(vectors), BLOCK):
                with cur.copy(f"COPY {TABLE} (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.write(copy_payload(start, np.asarray(vectors[start : start + BLOCK])))
        meta = data_meta | {"load_s": round(time.perf_counter() - started, 1), "loaded": today()}
        set_comment(conn, "TABLE", TABLE, meta)
    conn.execute(f"VACUUM (ANALYZE) {TABLE}")  # sets hint bits / visibility map now, not during timed queries
    return meta | {"reused": False}


def ensure_index(conn: psycopg.Connection, m: int, ef_construction: int, work_mem: str, rebuild: bool) -> dict:
    meta = comment_of(conn, INDEX)
    wanted = {"m": m, "ef_construction": ef_construction}
    if not rebuild and {k: meta.get(k) for k in wanted} == wanted:
        return meta | {"reused": True}
    conn.execute(f"DROP INDEX IF EXISTS {INDEX}")
    # The graph must fit in maintenance_work_mem or the build slows down badly (pgvector prints a
    # NOTICE, relayed below); one parallel worker plus the leader uses both cores of this machine.
    conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(work_mem)))
    conn.execute("SET max_parallel_maintenance_workers = 1")
    conn.add_notice_handler(lambda diag: print(f"NOTICE: {diag.message_primary}", file=sys.stderr))
    started = time.perf_counter()
    conn.execute(
        f"CREATE INDEX {INDEX} ON {TABLE} USING hnsw (embedding vector_cosine_ops) "
        f"WITH (m = {m}, ef_construction = {ef_construction})"
    )
    meta = wanted | {"build_s": round(time.perf_counter() - started, 1), "built": today()}
    set_comment(conn, "INDEX", INDEX, meta)
    return meta | {"reused": False}


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Row numbers of the true top-K per query by cosine (dot product of unit vectors), among
    ``rows`` (default: all), one block at a time."""
    rows = np.arange(len(vectors)) if rows is None else rows
    best_ids = np.empty((len(queries), 0), dtype=np.int64)
    best_scores = np.empty((len(queries), 0), dtype=np.float32)
    for start in range(0, len(rows), BLOCK):
        chosen = rows[start : start + BLOCK]
        scores = queries @ np.asarray(vectors[chosen]).T
        top = np.argpartition(-scores, min(K, scores.shape[1]) - 1, axis=1)[:, :K]
        ids = np.concatenate([best_ids, chosen[top]], axis=1)
        merged = np.concatenate([best_scores, np.take_along_axis(scores, top, axis=1)], axis=1)
        keep = np.argsort(-merged, axis=1)[:, :K]
        best_ids, best_scores = np.take_along_axis(ids, keep, 1), np.take_along_axis(merged, keep, 1)
    return best_ids


def postgres_exact_ids(conn: psycopg.Connection, query: np.ndarray) -> set[int]:
    """PostgreSQL's own exact answer for one query, to check that the numpy ground truth agrees."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_indexscan = off")
        return {row[0] for row in conn.execute(SEARCH_SQL, (query,))}


def hnsw_plan_line(conn: psycopg.Connection, query: np.ndarray) -> str:
    plan = [row[0] for row in conn.execute(f"EXPLAIN (COSTS OFF) {SEARCH_SQL}", (query,))]
    return next((line.strip(" ->") for line in plan if INDEX in line), "HNSW INDEX NOT USED: " + " / ".join(plan))


def timed_passes(search, queries: np.ndarray) -> tuple[list[float], list[list[int]]]:
    """Run ``search`` (query -> ids) once over all queries untimed (warm-up), then again timed."""
    for query in queries:
        search(query)
    latencies, results = [], []
    for query in queries:
        started = time.perf_counter()
        results.append(search(query))
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, results


def timed_search(conn: psycopg.Connection, queries: np.ndarray, ef_search: int) -> tuple[list[float], list[list[int]]]:
    # The same session settings the app applies to every connection.
    conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef_search)))
    conn.execute("SET hnsw.iterative_scan = relaxed_order")
    return timed_passes(lambda query: [row[0] for row in conn.execute(SEARCH_SQL, (query,))], queries)


def nearest_rank(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def recall(found: list[list[int]], exact: np.ndarray) -> float:
    return float(np.mean([len(set(ids) & set(truth.tolist())) / K for ids, truth in zip(found, exact, strict=True)]))


def today() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--chunks", type=int, default=100_000, help="rows to fill (default 100,000)")
    size.add_argument("--million", dest="chunks", action="store_const", const=1_000_000, help="fill 1,000,000 rows")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--ef-search",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[settings.HNSW_EF_SEARCH],
        help="comma-separated; default settings.HNSW_EF_SEARCH",
    )
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--maintenance-work-mem", default="4GB", help="for the index build (1M graph is ~2.5GB)")
    parser.add_argument("--database", help="default ragchat_scale, or ragchat_scale_filtered with --filtered")
    parser.add_argument(
        "--filtered",
        action="store_true",
        help="permission-aware case: the app's schema and search, readers of 0.1%%, 1%%, 50%% (scale_filtered.py)",
    )
    parser.add_argument("--collections", type=int, default=1_000, help="with --filtered (default 1,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/ragchat_scale_cache"))
    parser.add_argument("--rebuild", action="store_true", help="reload the table and rebuild the index")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args()
    args.database = args.database or ("ragchat_scale_filtered" if args.filtered else "ragchat_scale")
    return args


def measure(conn: psycopg.Connection, queries: np.ndarray, exact: np.ndarray, ef_search: int) -> dict:
    latencies, found = timed_search(conn, queries, ef_search)
    return {
        "ef_search": ef_search,
        "recall_at_10": round(recall(found, exact), 4),
        "p50_ms": round(nearest_rank(latencies, 50), 2),
        "p95_ms": round(nearest_rank(latencies, 95), 2),
    }


def main() -> None:
    args = parse_args()
    vectors, queries = corpus_and_queries(args.chunks, args.queries, args.seed, args.cache_dir)
    conn = connect(args.database)
    if args.filtered:
        return filtered(args, conn, vectors, queries)
    data_meta = {"chunks": args.chunks, "seed": args.seed, "data_version": DATA_VERSION}
    table = ensure_table(conn, vectors, data_meta, args.rebuild)
    index = ensure_index(conn, args.m, args.ef_construction, args.maintenance_work_mem, args.rebuild)
    exact = exact_top_k(vectors, queries)
    agreement = len(postgres_exact_ids(conn, queries[0]) & set(exact[0].tolist()))
    chunks = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
    params = {"chunks": chunks, "m": args.m, "ef_construction": args.ef_construction}
    size_sql = "SELECT pg_size_pretty(pg_relation_size(%s)), pg_size_pretty(pg_relation_size(%s)), "
    size_sql += "pg_size_pretty(pg_total_relation_size(%s))"
    sizes = conn.execute(size_sql, (TABLE, INDEX, TABLE)).fetchone()
    report = {
        "rows": [params | measure(conn, queries, exact, ef) for ef in args.ef_search],
        "queries": args.queries,
        "table": table,
        "index": index,
        "plan": hnsw_plan_line(conn, queries[0]),
        "exact_check": f"{agreement}/{K}",
        "sizes": dict(zip(["table", "hnsw_index", "total_with_indexes"], sizes, strict=True)),
        "date": today(),
        "command": "DEBUG=true .venv/bin/python " + shlex.join(sys.argv),
    }
    print(json.dumps(report, indent=2) if args.json else markdown(report))


def filtered(args: argparse.Namespace, conn: psycopg.Connection, vectors: np.ndarray, queries: np.ndarray) -> None:
    import scale_filtered

    report = scale_filtered.run(args, conn, vectors, queries, K)
    report |= {"date": today(), "command": "DEBUG=true .venv/bin/python " + shlex.join(sys.argv)}
    print(json.dumps(report, indent=2) if args.json else scale_filtered.markdown(report))
    print(f"- date: {report['date']}\n- command: `{report['command']}`" if not args.json else "", end="")


def markdown(report: dict) -> str:
    def timing(meta: dict, key: str, when: str) -> str:
        return f"{meta[key]} s" + (f" (reused, measured {meta[when]})" if meta["reused"] else "")

    columns = ["chunks", "m", "ef_construction", "ef_search", "recall_at_10", "p50_ms", "p95_ms"]
    lines = ["| " + " | ".join(columns).replace("_at_", "@").replace("_ms", " ms") + " |", "|---" * 7 + "|"]
    lines += ["| " + " | ".join(f"{row[c]:,}" for c in columns) + " |" for row in report["rows"]]
    sizes = ", ".join(f"{name.replace('_', ' ')} {size}" for name, size in report["sizes"].items())
    return "\n".join(
        lines
        + [
            "",
            f"- queries: {report['queries']} per ef_search, timed after one untimed warm-up pass (warm cache)",
            f"- load (COPY): {timing(report['table'], 'load_s', 'loaded')}",
            f"- index build: {timing(report['index'], 'build_s', 'built')}",
            f"- size: {sizes}",
            f"- plan: {report['plan']}",
            f"- numpy ground truth vs PostgreSQL exact search (query 0): {report['exact_check']} agree",
            f"- date: {report['date']}",
            f"- command: `{report['command']}`",
        ]
    )


if __name__ == "__main__":
    main()
