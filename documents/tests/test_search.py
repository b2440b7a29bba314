import os

import pytest
from django.conf import settings
from django.db import connection

from conversations import rag
from documents.search import SearchParams, build_search_sql, search_chunks


@pytest.mark.parametrize(
    ("question", "expected_source", "expected_text"),
    [
        ("When should I cut back my roses?", "garden/roses.md", "Prune roses"),
        ("How often do I need to oil my bike chain?", "bikes.html", "Oil the bicycle chain"),
        ("How do I remove limescale from the kettle?", "kettle.txt", "Descale the kettle"),
    ],
)
def test_a_question_finds_the_chunk_that_answers_it(knowledge_base, question, expected_source, expected_text):
    best = rag.retrieve(question)[0]
    assert best.source == expected_source
    assert expected_text in best.text


def test_results_are_best_first_with_scores_and_limited_to_top_k(knowledge_base):
    results = rag.retrieve("tomatoes watering", top_k=2)
    assert len(results) == 2
    assert results[0].score >= results[1].score
    assert "Water tomatoes" in results[0].text


def test_search_can_be_limited_to_a_collection(knowledge_base, docs_dir):
    from documents.services import documents_import

    documents_import(paths=[docs_dir / "kettle.txt"], collection="kitchen")
    results = rag.retrieve("How do I prune roses?", collection="kitchen")
    assert {r.collection for r in results} == {"kitchen"}
    assert {r.source for r in results} == {"kettle.txt"}


def test_keyword_search_alone_finds_exact_terms(knowledge_base):
    vector = rag.get_embeddings().embed_query("unrelated")
    params = SearchParams.from_settings(dense_weight=0.0, keyword_weight=1.0)
    results = search_chunks(query_vector=vector, query_text="What pressure for tyres?", params=params)
    assert [r.source for r in results] == ["bikes.html"]


def test_no_weight_at_all_is_refused():
    with pytest.raises(ValueError, match="must be positive"):
        build_search_sql(SearchParams.from_settings(dense_weight=0.0, keyword_weight=0.0), collection=None)


def test_the_search_can_use_the_hnsw_and_gin_indexes(knowledge_base):
    """With sequential scans ruled out, the plan must go through both named indexes."""
    params = SearchParams.from_settings(dense_weight=1.0, keyword_weight=1.0)
    vector = "[" + ",".join(["0.05"] * 384) + "]"
    values = {
        "vector": vector,
        "text": "roses",
        "collection": None,
        "candidates": 10,
        "top_k": 5,
        "rrf_k": 60,
        "dense_weight": 1.0,
        "keyword_weight": 1.0,
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + build_search_sql(params, collection=None), values)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "chunk_embedding_cosine_hnsw" in plan
    assert "chunk_search_vector_gin" in plan


@pytest.mark.skipif("HNSW_EF_SEARCH" in os.environ, reason="the environment sets its own search breadth")
def test_searches_walk_the_hnsw_graph_200_wide_by_default(db):
    """One index holds every collection, so a collection's search needs a wide walk of the graph:
    100 wide, a collection holding a third of the index missed 3% of its true nearest chunks."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert int(cursor.fetchone()[0]) == settings.HNSW_EF_SEARCH == 200
