"""The filtered case of the scale benchmark: permission-aware search over many collections.

What is measured
    The app's own search (``documents.search.search_chunks``, the statement every question runs)
    against the app's own schema, migrated into a database of its own (default
    ``ragchat_scale_filtered``). The scale benchmark's synthetic vectors become chunks of
    ``--collections`` private collections of equal size, ``DOCUMENTS_PER_COLLECTION`` documents
    each, chunk ids in import order (a collection's chunks are neighbours in the table, as imports
    write them). Topics are independent of collections, so a reader's chunks are spread over the
    whole graph. The indexes are the migration's own (HNSW m 16 / ef_construction 64, GIN), built
    after the load.

    Readers are users who may read a share of the collections, through direct memberships and a
    group (each reader gets half of its collections each way): by default 1 collection (0.1%),
    10 (1%), 20 (2%: 20,000 chunks, the most the app searches exactly by default) and 500 (50%).
    Each asks every query through ``Reader.for_user``; its top 10 is compared with the exact top
    10 over the chunks it may read (numpy, brute force), which gives recall@10. The search runs
    vector-only with the document blend off (``keyword_weight=0``, ``document_weight=0``) so that
    its ranking is the nearest-neighbour ranking exact search defines; the session settings
    (``hnsw.ef_search``, ``hnsw.iterative_scan``) are the app's own. Each reader is measured as the
    app searches (``RETRIEVAL_EXACT_LIMIT``: few readable chunks are compared exactly, more go
    through the index) and, beside it, through the HNSW index only (``exact_limit=0``, the app's
    search before the exact way existed). Two last columns time the app's default parameters
    (document blend on).
    Latencies are p50/p95 by nearest rank over a timed pass after an untimed warm-up pass.

Usage:
    cd /work/main && DEBUG=true .venv/bin/python benchmarks/scale_benchmark.py --million --filtered
"""

from __future__ import annotations

import json
import time

import numpy as np
import psycopg
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import connection, connections
from psycopg import sql

from documents.models import Collection, Membership, Role
from documents.search import Reader, SearchParams, search_chunks

DOCUMENTS_PER_COLLECTION = 20
READER_SHARES = (1, 10, 20, 500)  # collections each reader may read, of the default 1,000
STAGING = "scale_filtered_vectors"
CHUNK_INDEXES = ("chunk_embedding_cosine_hnsw", "chunk_search_vector_gin")


def use_database(name: str) -> None:
    """Point Django at the benchmark's own database (created by the caller) and migrate it."""
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name
    call_command("migrate", verbosity=0)


def chunk_collection(n_chunks: int, n_collections: int) -> np.ndarray:
    """The collection number of every chunk (row i is chunk id i + 1): equal, contiguous blocks."""
    return np.arange(n_chunks) * n_collections // n_chunks


def ensure_filled(conn: psycopg.Connection, vectors: np.ndarray, meta: dict, work_mem: str, rebuild: bool) -> dict:
    """Fill collections, documents and chunks unless the same data is there; return its metadata."""
    found = _comment(conn)
    if not rebuild and {k: found.get(k) for k in meta} == meta:
        return found | {"reused": True}
    definitions = dict(
        conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'documents_chunk' AND indexname = ANY(%s)",
            (list(CHUNK_INDEXES),),
        ).fetchall()
    )
    started = time.perf_counter()
    with conn.transaction():
        conn.execute("TRUNCATE documents_collection, documents_membership, documents_document, documents_chunk CASCADE")
        for name in definitions:  # built again after the load: far faster than growing them row by row
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        _load(conn, vectors, meta["collections"])
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(work_mem)))
    conn.execute("SET max_parallel_maintenance_workers = 1")
    for definition in definitions.values():
        conn.execute(definition)
    build_s = time.perf_counter() - started
    conn.execute("VACUUM (ANALYZE) documents_collection, documents_document, documents_chunk")
    meta = meta | {"load_s": round(load_s, 1), "index_build_s": round(build_s, 1)}
    conn.execute(sql.SQL("COMMENT ON TABLE documents_chunk IS {}").format(sql.Literal(json.dumps(meta))))
    return meta | {"reused": False}


def _comment(conn: psycopg.Connection) -> dict:
    row = conn.execute("SELECT obj_description('documents_chunk'::regclass, 'pg_class')").fetchone()
    return json.loads(row[0]) if row and row[0] else {}


def _load(conn: psycopg.Connection, vectors: np.ndarray, n_collections: int) -> None:
    from scale_benchmark import BLOCK, DIMS, copy_payload  # the same binary COPY as the unfiltered case

    n = len(vectors)
    n_documents = n_collections * DOCUMENTS_PER_COLLECTION
    conn.execute(
        "INSERT INTO documents_collection "
        "(name, title, description, visibility, personal, chunk_count, created_at, updated_at) "
        "SELECT format('scale-%%s', lpad(i::text, 4, '0')), format('Scale %%s', i), '', 'private', false, 0, "
        "now(), now() "
        "FROM generate_series(0, %s - 1) i",
        (n_collections,),
    )
    # Document j holds chunks [j * n / n_documents, (j + 1) * n / n_documents); its collection follows.
    conn.execute(
        "INSERT INTO documents_document (id, collection, path, title, content_hash, metadata, created_at, updated_at) "
        "SELECT j + 1, format('scale-%%s', lpad((j * %(c)s / %(d)s)::text, 4, '0')), format('doc-%%s.md', j), "
        "format('Document %%s', j), '', '{}', now(), now() FROM generate_series(0, %(d)s - 1) j",
        {"c": n_collections, "d": n_documents},
    )
    conn.execute(f"CREATE TEMPORARY TABLE {STAGING} (id bigint, embedding vector({DIMS})) ON COMMIT DROP")
    with conn.cursor() as cur:
        for start in range(0, n, BLOCK):
            with cur.copy(f"COPY {STAGING} (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.write(copy_payload(start, np.asarray(vectors[start : start + BLOCK])))
    conn.execute(
        "INSERT INTO documents_chunk (id, document_id, collection, position, heading, text, embedding) "
        "SELECT v.id + 1, v.id * %(d)s / %(n)s + 1, format('scale-%%s', lpad((v.id * %(c)s / %(n)s)::text, 4, '0')), "
        "v.id - ((v.id * %(d)s / %(n)s) * %(n)s + %(d)s - 1) / %(d)s, '', format('Chunk %%s', v.id), v.embedding "
        f"FROM {STAGING} v",
        {"n": n, "c": n_collections, "d": n_documents},
    )
    conn.execute(
        "UPDATE documents_document d SET embedding = m.embedding "
        "FROM (SELECT document_id, avg(embedding) AS embedding FROM documents_chunk GROUP BY document_id) m "
        "WHERE d.id = m.document_id"
    )
    for table in ("documents_document", "documents_chunk"):  # explicit ids were given: move the sequences on
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def make_readers(n_collections: int, shares: tuple[int, ...], seed: int) -> dict[str, tuple[User, np.ndarray]]:
    """One user per share, reading that many random collections: half as a member, half via a group."""
    rng = np.random.default_rng(seed)
    User.objects.filter(username__startswith="scale-reader-").delete()
    Group.objects.filter(name__startswith="scale-readers-").delete()
    readers = {}
    for share in shares:
        chosen = np.sort(rng.choice(n_collections, size=share, replace=False))
        user = User.objects.create(username=f"scale-reader-{share}")
        group = Group.objects.create(name=f"scale-readers-{share}")
        user.groups.add(group)
        names = [f"scale-{i:04d}" for i in chosen]
        ids = dict(Collection.objects.filter(name__in=names).values_list("name", "id"))
        Membership.objects.bulk_create(
            Membership(collection_id=ids[name], role=Role.READER, **({"user": user} if k % 2 else {"group": group}))
            for k, name in enumerate(names)
        )
        label = f"{share} of {n_collections} ({100 * share / n_collections:g}%)"
        readers[label] = (user, chosen)
    return readers


def timed(reader: Reader, queries: np.ndarray, params: SearchParams) -> tuple[list[float], list[list[int]]]:
    from scale_benchmark import timed_passes

    def search(query: np.ndarray) -> list[int]:
        found = search_chunks(query_vector=query.tolist(), query_text="", params=params, reader=reader)
        return [chunk.chunk_id for chunk in found]

    return timed_passes(search, queries)


def plan_summary(reader: Reader, query: np.ndarray, params: SearchParams) -> str:
    """The lines of EXPLAIN ANALYZE that say how the chunks were found, for the report."""
    from documents.search import build_search_sql, search_rows, search_values

    values = search_values(params, query_vector=query.tolist(), query_text="", reader=reader, collections=None)
    explain = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + build_search_sql(params)
    lines = [row[0].strip(" ->") for row in search_rows(explain, values)]
    # The scans of chunks that ran (a branch that did not run says "never executed"), and the time.
    keep = ("on documents_chunk", "Execution Time")
    return " / ".join(line for line in lines if any(word in line for word in keep) and "never executed" not in line)


def session_settings() -> dict:
    names = ["hnsw.ef_search", "hnsw.iterative_scan", "hnsw.max_scan_tuples", "hnsw.scan_mem_multiplier"]
    with connection.cursor() as cursor:
        return {name: cursor.execute(f"SHOW {name}").fetchone()[0] for name in names}


def run(args, conn: psycopg.Connection, vectors: np.ndarray, queries: np.ndarray, k: int) -> dict:
    """Fill (or reuse) the filtered database and measure every reader; return the report."""
    from scale_benchmark import DATA_VERSION, exact_top_k, nearest_rank, recall

    use_database(args.database)
    meta = {"chunks": len(vectors), "collections": args.collections, "seed": args.seed, "data_version": DATA_VERSION}
    data = ensure_filled(conn, vectors, meta, args.maintenance_work_mem, args.rebuild)
    owner_of = chunk_collection(len(vectors), args.collections)
    shares = tuple(sorted({round(share * args.collections / 1000) or 1 for share in READER_SHARES}))
    nearest = SearchParams.from_settings(top_k=k, keyword_weight=0, document_weight=0)
    index_only = SearchParams.from_settings(top_k=k, keyword_weight=0, document_weight=0, exact_limit=0)
    default = SearchParams.from_settings(top_k=k)
    rows = []
    for label, (user, chosen) in make_readers(args.collections, shares, args.seed).items():
        reader = Reader.for_user(user)
        exact = exact_top_k(vectors, queries, np.flatnonzero(np.isin(owner_of, chosen))) + 1  # chunk id = row + 1
        row = {"reader": label, "readable_chunks": int(np.isin(owner_of, chosen).sum())}
        for prefix, params in (("", nearest), ("index_only_", index_only)):
            latencies, found = timed(reader, queries, params)
            row |= {
                f"{prefix}recall_at_10": round(recall(found, exact), 4),
                f"{prefix}p50_ms": round(nearest_rank(latencies, 50), 2),
                f"{prefix}p95_ms": round(nearest_rank(latencies, 95), 2),
            }
        blended, _ = timed(reader, queries, default)
        row |= {
            "default_p50_ms": round(nearest_rank(blended, 50), 2),
            "default_p95_ms": round(nearest_rank(blended, 95), 2),
            "plan": plan_summary(reader, queries[0], nearest),
        }
        rows.append(row)
    return {"rows": rows, "queries": len(queries), "data": data, "settings": session_settings()}


def markdown(report: dict) -> str:
    columns = ["reader", "readable_chunks", "recall_at_10", "p50_ms", "p95_ms"]
    columns += ["index_only_recall_at_10", "index_only_p50_ms", "index_only_p95_ms", "default_p50_ms", "default_p95_ms"]
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    lines += [
        "| " + " | ".join(row[c] if isinstance(row[c], str) else f"{row[c]:,}" for c in columns) + " |"
        for row in report["rows"]
    ]
    data = report["data"]
    lines += [
        "",
        f"- chunks: {data['chunks']:,} in {data['collections']:,} collections; queries: {report['queries']} per reader",
        f"- load: {data['load_s']} s, index build: {data['index_build_s']} s" + (" (reused)" if data["reused"] else ""),
        f"- session settings: {report['settings']}",
    ]
    lines += [f"- plan, {row['reader']}: {row['plan']}" for row in report["rows"]]
    return "\n".join(lines)
