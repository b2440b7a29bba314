"""Hybrid retrieval: pgvector nearest neighbours and PostgreSQL full-text search, fused by
weighted reciprocal rank fusion in a single SQL statement (one round trip).

Each side takes its best ``candidates`` chunks through its own index (HNSW for the vectors,
GIN for the text) and the fused score is ``sum(weight / (rrf_k + rank))`` over the sides
that found the chunk. A weight of zero leaves that side out of the query entirely.

The vector side ranks its candidates by a blend of the chunk's similarity to the question and
its document's (``document_weight`` of the latter; the document vector is the mean of its
chunks). A passage is evidence, and so is the page it comes from: a chunk that merely looks
like the question, inside a page about something else, falls behind one from a page on topic.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection
from pgvector import Vector
from pgvector.psycopg.vector import VectorBinaryDumper

from documents.models import FULL_TEXT_CONFIG


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: int
    document_id: int
    collection: str
    path: str  # the document's path within its collection
    title: str
    heading: str
    text: str
    position: int
    score: float
    similarity: float
    page: int | None = None  # 1-based page (PDF) or slide (presentation); None where a format has none

    @property
    def label(self) -> str:
        """How the passage is named to people: "harbour-report.pdf, p. 2", "deck.pptx, slide 3" or its path."""
        return source_label(self.path, self.page)


def source_label(path: str, page: int | None) -> str:
    """A document path with the page its passage is on, as citations and source lists show it."""
    if page is None:
        return path
    return f"{path}, slide {page}" if path.lower().endswith(".pptx") else f"{path}, p. {page}"


@dataclass(frozen=True)
class SearchParams:
    top_k: int
    candidates: int
    dense_weight: float
    keyword_weight: float
    rrf_k: int
    document_weight: float
    exact_limit: int

    def __post_init__(self):
        if not 0 <= self.document_weight <= 1:
            raise ValueError(f"The document weight is a share between 0 and 1, not {self.document_weight}.")

    @classmethod
    def from_settings(cls, **overrides) -> "SearchParams":
        values = {
            "top_k": settings.RETRIEVAL_TOP_K,
            "candidates": settings.RETRIEVAL_CANDIDATES,
            "dense_weight": settings.RETRIEVAL_DENSE_WEIGHT,
            "keyword_weight": settings.RETRIEVAL_KEYWORD_WEIGHT,
            "rrf_k": settings.RETRIEVAL_RRF_K,
            "document_weight": settings.RETRIEVAL_DOCUMENT_WEIGHT,
            "exact_limit": settings.RETRIEVAL_EXACT_LIMIT,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass(frozen=True)
class Reader:
    """Who a search is for: it finds only chunks of collections this reader may read.

    Every search names its reader. ``system_override`` reads every collection; it is for staff
    tools and commands that say so (``ask`` without ``--user``, ``evaluate``), never for a user.
    """

    user_id: int | None
    everything: bool = False

    @classmethod
    def for_user(cls, user) -> "Reader":
        return cls(user_id=user.pk)

    @classmethod
    def system_override(cls) -> "Reader":
        return cls(user_id=None, everything=True)


# The collections a reader may search, decided in the search statement itself: those read by the
# whole organisation, the reader's own, and those shared with the reader or one of their groups
# (the same rule as Collection.objects.readable_by); then, if the caller chose some, only those.
_READABLE = """
readable AS (
    SELECT col.name, col.chunk_count FROM documents_collection col
    WHERE (%(everything)s
           OR col.visibility = 'organisation'
           OR col.owner_id = %(reader)s
           OR EXISTS (
               SELECT 1 FROM documents_membership m
               WHERE m.collection_id = col.id
                 AND (m.user_id = %(reader)s
                      OR m.group_id IN (SELECT ug.group_id FROM auth_user_groups ug WHERE ug.user_id = %(reader)s))
           ))
      AND (%(chosen)s::text[] IS NULL OR col.name = ANY(%(chosen)s::text[]))
)"""
# How the nearest chunks are found depends on how many the reader may read (the collections'
# chunk counts, kept by triggers). One pass of the HNSW walk yields hnsw.ef_search chunks; when
# fewer than `candidates` of them would be readable, the walk has to go on (hnsw.iterative_scan)
# past many unreadable chunks for each readable one, which is slow and loses neighbours. Then, up
# to settings.RETRIEVAL_EXACT_LIMIT readable chunks, every one is compared with the question
# instead: exact, and quicker. Otherwise the index is walked, filtered on the chunk's own copy of
# its collection. Each way is gated by a one-time filter, so only one of them runs
# (docs/retrieval-query-plan.md).
_FEW = """
few AS (
    SELECT mine.chunks <= %(exact_limit)s
           AND mine.chunks * coalesce(current_setting('hnsw.ef_search', true), '40')::int
               < %(candidates)s * everything.chunks AS exact
    FROM (SELECT coalesce(sum(chunk_count), 0) AS chunks FROM readable) mine,
         (SELECT coalesce(sum(chunk_count), 0) AS chunks FROM documents_collection) everything
)"""

# The exact way reads the chunks of each readable collection r through the index on the documents'
# collection and the one on the chunks' document. OFFSET 0 makes that subquery a fence the planner
# keeps: it runs once per readable collection, so its plan does not hang on the planner's guess of
# the readable set's size (from a CTE, a guess: with a high one it read the whole table), and the
# nearest chunks cannot be asked of the HNSW index, the slow way when few are readable. The index
# way has deliberately no btree on the chunk's collection to choose instead of the HNSW index.
_NEAREST = """
(SELECT c.id, c.document_id, c.embedding <=> %(vector)s::vector AS distance
 FROM readable r CROSS JOIN LATERAL (
     SELECT c.id, c.document_id, c.embedding FROM documents_document rd
     JOIN documents_chunk c ON c.document_id = rd.id
     WHERE rd.collection = r.name
     OFFSET 0
 ) c
 WHERE (SELECT exact FROM few)
 ORDER BY distance
 LIMIT %(candidates)s)
UNION ALL
(SELECT c.id, c.document_id, c.embedding <=> %(vector)s::vector AS distance
 FROM documents_chunk c
 WHERE NOT (SELECT exact FROM few) AND c.collection IN (SELECT name FROM readable)
 ORDER BY distance
 LIMIT %(candidates)s)"""

# The nearest candidates are then ranked exactly, by their blended similarity (slightly out of
# order after an index walk with hnsw.iterative_scan=relaxed_order). A document without a vector
# (never the case after an import) counts with its chunk's own.
_DENSE = """
dense AS (
    SELECT nearest.id, row_number() OVER (
        ORDER BY (1 - %(document_weight)s::float) * (1 - nearest.distance)
                 + %(document_weight)s::float * coalesce(1 - (d.embedding <=> %(vector)s::vector), 1 - nearest.distance)
                 DESC, nearest.id
    ) AS rank
    FROM ({nearest}) nearest
    JOIN documents_document d ON d.id = nearest.document_id
)"""

_READABLE_FILTER = "WHERE c.collection IN (SELECT name FROM readable)"

# Questions rarely contain every word of their answer, so the query's terms are OR-ed
# (plainto_tsquery AND-s them); ts_rank_cd then rewards chunks that match more of them.
_KEYWORD = """
keyword AS (
    SELECT id, row_number() OVER (ORDER BY text_rank DESC, id) AS rank
    FROM (
        SELECT c.id, ts_rank_cd(c.search_vector, q.query) AS text_rank
        FROM documents_chunk c,
             (SELECT replace(plainto_tsquery('{config}', %(text)s)::text, ' & ', ' | ')::tsquery AS query) q
        {readable_filter} AND c.search_vector @@ q.query
        ORDER BY text_rank DESC, c.id
        LIMIT %(candidates)s
    ) matches
)"""

_FUSED = """
SELECT c.id, c.document_id, c.collection, d.path, d.title, c.heading, c.text, c.position,
       f.score, 1 - (c.embedding <=> %(vector)s::vector) AS similarity, c.page
FROM (
    SELECT id, sum(weight / (%(rrf_k)s + rank)) AS score
    FROM ({ranked}) ranked
    GROUP BY id
) f
JOIN documents_chunk c ON c.id = f.id
JOIN documents_document d ON d.id = c.document_id
ORDER BY f.score DESC, c.id
LIMIT %(top_k)s"""


def build_search_sql(params: SearchParams) -> str:
    ctes, ranked = [_READABLE], []
    if params.dense_weight > 0:
        ctes += [_FEW, _DENSE.format(nearest=_NEAREST)]
        ranked.append("SELECT id, rank, %(dense_weight)s::float AS weight FROM dense")
    if params.keyword_weight > 0:
        ctes.append(_KEYWORD.format(readable_filter=_READABLE_FILTER, config=FULL_TEXT_CONFIG))
        ranked.append("SELECT id, rank, %(keyword_weight)s::float AS weight FROM keyword")
    if not ranked:
        raise ValueError("At least one of the dense and keyword weights must be positive.")
    return "WITH " + ",".join(ctes) + _FUSED.format(ranked=" UNION ALL ".join(ranked))


def search_values(
    params: SearchParams,
    *,
    query_vector: Sequence[float],
    query_text: str,
    reader: Reader,
    collections: list[str] | None,
) -> dict:
    """The parameters of ``build_search_sql``'s statement, for ``search_rows``."""
    return {
        "vector": Vector(list(query_vector)),
        "text": query_text,
        "reader": reader.user_id,
        "everything": reader.everything,
        "chosen": list(collections) if collections is not None else None,
        "candidates": params.candidates,
        "top_k": params.top_k,
        "rrf_k": params.rrf_k,
        "dense_weight": params.dense_weight,
        "keyword_weight": params.keyword_weight,
        "document_weight": params.document_weight,
        "exact_limit": params.exact_limit,
    }


def search_chunks(
    *,
    query_vector: list[float],
    query_text: str,
    params: SearchParams,
    reader: Reader,
    collections: list[str] | None = None,
) -> list[RetrievedChunk]:
    """The best ``params.top_k`` chunks for a query that ``reader`` may read, best first.

    ``collections`` narrows the search to those names (of the ones the reader may read); None
    searches every collection the reader may read.
    """
    sql = build_search_sql(params)
    values = search_values(
        params, query_vector=query_vector, query_text=query_text, reader=reader, collections=collections
    )
    return [RetrievedChunk(*row) for row in search_rows(sql, values)]


def search_rows(sql: str, values: dict) -> list[tuple]:
    """The rows of a search statement (or of its EXPLAIN) with ``search_values``' parameters.

    Django's cursors bind parameters on the client: the question's 384 numbers would be written out
    as text at each of the statement's four uses of the vector, and parsed four times by the
    server. A psycopg cursor of its own, on Django's connection (its transaction, its error types),
    binds them on the server instead: each parameter is sent once, the vector in pgvector's binary
    form. It is never a prepared statement, so a transaction-pooling PgBouncer is fine.
    """
    # What Django's own cursor() does first: reconnect after a failed health check, connect, and
    # refuse a connection of another thread.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # No type given (oid 0): the statement's own ``::vector`` casts type the parameter.
        cursor.adapters.register_dumper(Vector, VectorBinaryDumper)
        cursor.execute(sql, values)
        return cursor.fetchall()
