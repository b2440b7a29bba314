"""Imports that meet faults: two at once on the same folder, and the embedding model failing
part-way. Neither leaves a half-written or duplicated document, and the next import completes."""

import pytest
from django.db.models import Count

from conftest import run_at_once
from documents import services
from documents.embeddings import MiniLMEmbeddings
from documents.models import Chunk, Document

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_imports_of_the_same_folder_at_once_store_each_document_once(docs_dir):
    reports, errors = run_at_once(lambda: services.documents_import(paths=[docs_dir]))

    assert errors == [] and all(not report.failed for report in reports)
    assert sorted(Document.objects.values_list("path", flat=True)) == ["bikes.html", "garden/roses.md", "kettle.txt"]
    assert not Chunk.objects.values("document", "position").annotate(n=Count("id")).filter(n__gt=1).exists()
    alone = services.documents_import(paths=[docs_dir], collection="reference")
    assert Chunk.objects.filter(document__collection="default").count() == alone.chunks_written


def test_an_embedding_failure_part_way_keeps_what_was_stored_and_the_next_import_finishes(docs_dir, monkeypatch):
    # One file per embedding batch, and the model fails on the second batch.
    monkeypatch.setattr(services, "EMBED_POOL_CHUNKS", 1)
    real_embed = MiniLMEmbeddings.embed_documents
    calls = []

    def failing_second_time(self, texts):
        calls.append(len(texts))
        if len(calls) == 2:
            raise RuntimeError("the model process was killed")
        return real_embed(self, texts)

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", failing_second_time)
    first = services.documents_import(paths=[docs_dir])

    assert len(first.added) == 2 and len(first.failed) == 1
    failed_source, reason = first.failed[0]
    assert "embedding failed" in reason and "killed" in reason
    assert not Document.objects.filter(path=failed_source).exists()
    stored = {d.path: d.chunks.count() for d in Document.objects.all()}
    assert all(count > 0 for count in stored.values())

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", real_embed)
    second = services.documents_import(paths=[docs_dir])
    assert second.added == [failed_source] and sorted(second.unchanged) == sorted(stored)
    assert Document.objects.count() == 3
