import os

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from conftest import make_chunk
from documents import retrieval
from documents.collections import collection_get_or_create
from documents.models import Chunk, Document, refresh_document_embeddings
from documents.search import (
    Reader,
    SearchParams,
    build_search_sql,
    search_chunks,
    search_rows,
    search_values,
    source_label,
)

# These tests are about ranking, not permissions (test_permissions.py): they read everything.
EVERYTHING = Reader.system_override()


@pytest.mark.parametrize(
    ("question", "expected_source", "expected_text"),
    [
        ("When should I cut back my roses?", "garden/roses.md", "Prune roses"),
        ("How often do I need to oil my bike chain?", "bikes.html", "Oil the bicycle chain"),
        ("How do I remove limescale from the kettle?", "kettle.txt", "Descale the kettle"),
    ],
)
def test_a_question_finds_the_chunk_that_answers_it(knowledge_base, question, expected_source, expected_text):
    best = retrieval.retrieve(question, reader=EVERYTHING)[0]
    assert best.path == expected_source
    assert expected_text in best.text


def test_results_are_best_first_with_scores_and_limited_to_top_k(knowledge_base):
    results = retrieval.retrieve("tomatoes watering", reader=EVERYTHING, top_k=2)
    assert len(results) == 2
    assert results[0].score >= results[1].score
    assert "Water tomatoes" in results[0].text


def test_search_can_be_limited_to_a_collection(knowledge_base, docs_dir):
    from documents.services import documents_import

    documents_import(paths=[docs_dir / "kettle.txt"], collection="kitchen")
    results = retrieval.retrieve("How do I prune roses?", reader=EVERYTHING, collections=["kitchen"])
    assert {r.collection for r in results} == {"kitchen"}
    assert {r.path for r in results} == {"kettle.txt"}


def test_passages_below_the_similarity_floor_are_dropped(settings):
    settings.ANSWER_MIN_SIMILARITY = 0.3
    kept = retrieval.relevant([make_chunk("close", 1, similarity=0.6), make_chunk("far", 2, similarity=0.1)])
    assert [c.text for c in kept] == ["close"]


def test_keyword_search_alone_finds_exact_terms(knowledge_base):
    vector = retrieval.get_embeddings().embed_query("unrelated")
    params = SearchParams.from_settings(dense_weight=0.0, keyword_weight=1.0)
    results = search_chunks(
        query_vector=vector, query_text="What pressure for tyres?", params=params, reader=EVERYTHING
    )
    assert [r.path for r in results] == ["bikes.html"]


def test_no_weight_at_all_is_refused():
    with pytest.raises(ValueError, match="must be positive"):
        build_search_sql(SearchParams.from_settings(dense_weight=0.0, keyword_weight=0.0))


@pytest.mark.parametrize("document_weight", [-0.1, 1.5])
def test_a_document_weight_outside_0_to_1_is_refused(document_weight):
    with pytest.raises(ValueError, match="between 0 and 1"):
        SearchParams.from_settings(document_weight=document_weight)


def test_the_search_can_use_the_hnsw_and_gin_indexes(knowledge_base):
    """With sequential scans ruled out, the plan must go through both named indexes."""
    params = SearchParams.from_settings(dense_weight=1.0, keyword_weight=1.0)
    values = search_values(params, query_vector=[0.05] * 384, query_text="roses", reader=EVERYTHING, collections=None)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = "\n".join(row[0] for row in search_rows("EXPLAIN " + build_search_sql(params), values))
    assert "chunk_embedding_cosine_hnsw" in plan
    assert "chunk_search_vector_gin" in plan


@pytest.mark.parametrize(
    "question", ["When should I cut back my roses?", "How do I look after a bicycle?", "tea", "Water tomatoes"]
)
def test_the_ranking_is_the_blend_of_chunk_and_document_similarity_recomputed_apart(knowledge_base, settings, question):
    """The statement's order and similarities, against numpy on the stored vectors: sending the
    question's vector in binary, once, loses nothing of the ranking the text form gave."""
    settings.RETRIEVAL_KEYWORD_WEIGHT = 0.0
    found = retrieval.retrieve(question, reader=EVERYTHING, top_k=50)

    query = np.array(retrieval.get_embeddings().embed_query(question))
    weight = settings.RETRIEVAL_DOCUMENT_WEIGHT
    chunks = list(Chunk.objects.select_related("document"))
    similarity = {c.pk: _cosine(c.embedding, query) for c in chunks}
    blended = {c.pk: (1 - weight) * similarity[c.pk] + weight * _cosine(c.document.embedding, query) for c in chunks}
    assert len(found) == len(chunks)  # a small knowledge base: every chunk is a candidate
    assert [r.chunk_id for r in found] == sorted(blended, key=lambda pk: (-blended[pk], pk))
    assert [r.similarity for r in found] == pytest.approx([similarity[r.chunk_id] for r in found], abs=1e-5)


def test_vectors_are_kept_in_their_rows_so_exact_scans_read_no_toast(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attrelid::regclass::text, attstorage FROM pg_attribute WHERE attname = 'embedding'"
            " AND attrelid IN ('documents_chunk'::regclass, 'documents_document'::regclass) ORDER BY 1"
        )
        assert cursor.fetchall() == [("documents_chunk", "p"), ("documents_document", "p")]


@pytest.mark.skipif("HNSW_EF_SEARCH" in os.environ, reason="the environment sets its own search breadth")
def test_searches_walk_the_hnsw_graph_200_wide_by_default(db):
    """One index holds every collection, so a collection's search needs a wide walk of the graph:
    100 wide, a collection holding a third of the index missed 3% of its true nearest chunks."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert int(cursor.fetchone()[0]) == settings.HNSW_EF_SEARCH == 200


def _unit(**components: float) -> list[float]:
    """A 384-d unit vector with the given weights on axes named e0, e1, ..."""
    vector = np.zeros(384)
    for axis, weight in components.items():
        vector[int(axis[1:])] = weight
    return list(vector / np.linalg.norm(vector))


def _document(source: str, vectors: list[list[float]]) -> Document:
    collection, _ = collection_get_or_create(name="default")
    document = Document.objects.create(collection=collection, path=source, title=source, content_hash="0" * 64)
    Chunk.objects.bulk_create(
        Chunk(
            document=document,
            collection=collection,
            position=i,
            heading="",
            text=f"{source} part {i}",
            embedding=vector,
        )
        for i, vector in enumerate(vectors)
    )
    refresh_document_embeddings([document.pk])
    return document


def _cosine(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_a_passage_from_a_page_on_topic_outranks_a_look_alike_from_a_page_off_topic(db):
    """The question is axis e0. "long" has the closest chunk (0.9) but is mostly about other things
    (its mean is 0.52 from the question); "short" is one chunk at 0.85, so its document is too."""
    _document("long.txt", [_unit(e0=0.9, e1=0.19**0.5), _unit(e2=1), _unit(e3=1)])
    _document("short.txt", [_unit(e0=0.85, e4=(1 - 0.85**2) ** 0.5)])

    def best_source(document_weight: float) -> str:
        params = SearchParams.from_settings(document_weight=document_weight, keyword_weight=0.0)
        return search_chunks(query_vector=_unit(e0=1), query_text="", params=params, reader=EVERYTHING)[0].path

    assert best_source(0.0) == "long.txt"  # 0.9 against 0.85
    assert best_source(0.1) == "long.txt"  # 0.9·0.9 + 0.1·0.52 = 0.862 against 0.85
    assert best_source(0.5) == "short.txt"  # 0.71 against 0.85


def test_every_imported_document_carries_the_mean_direction_of_its_chunks(knowledge_base):
    for document in Document.objects.all():
        chunk_vectors = [chunk.embedding for chunk in document.chunks.all()]
        assert _cosine(document.embedding, np.mean(chunk_vectors, axis=0)) == pytest.approx(1, abs=1e-5)


def test_a_changed_file_and_a_re_embedding_refresh_the_document_vector(knowledge_base, docs_dir):
    from documents.jobs import reembed_job_start
    from documents.services import documents_import
    from documents.tests.conftest import run_jobs

    (docs_dir / "kettle.txt").write_text("Kettles\n\nA kettle boils water for tea in two minutes.\n")
    documents_import(paths=[docs_dir], collection="default")
    kettle = Document.objects.get(path="kettle.txt")
    chunk = kettle.chunks.get()
    assert _cosine(kettle.embedding, chunk.embedding) == pytest.approx(1, abs=1e-5)

    Chunk.objects.filter(pk=chunk.pk).update(embedding=_unit(e0=1))
    refresh_document_embeddings([kettle.pk])
    reembed_job_start(collection="default")
    run_jobs()
    kettle.refresh_from_db()
    assert _cosine(kettle.embedding, kettle.chunks.get().embedding) == pytest.approx(1, abs=1e-5)
    assert _cosine(kettle.embedding, _unit(e0=1)) < 0.5


def test_a_source_is_labelled_with_its_page_or_slide_where_its_format_has_pages():
    assert source_label("reports/harbour-report.pdf", 2) == "reports/harbour-report.pdf, p. 2"
    assert source_label("review.PPTX", 3) == "review.PPTX, slide 3"
    assert source_label("garden/roses.md", None) == "garden/roses.md"
