"""A collection's chunk count, kept by triggers on the chunk table, follows every way chunks come and go."""

from django.db.models import Count

from documents.collections import collection_delete, document_delete
from documents.models import Chunk, Collection, Document
from documents.services import documents_import


def _counts() -> dict[str, tuple[int, int]]:
    """Per collection: (the kept count, the chunks really there)."""
    real = dict(Chunk.objects.values_list("collection").annotate(n=Count("id")).values_list("collection", "n"))
    return {c.name: (c.chunk_count, real.get(c.name, 0)) for c in Collection.objects.all()}


def _agree() -> bool:
    return all(kept == real for kept, real in _counts().values())


def test_an_import_counts_its_chunks(knowledge_base):
    kept, real = _counts()["default"]
    assert kept == real > 0


def test_changing_a_file_and_deleting_a_document_keep_the_count(knowledge_base, docs_dir):
    (docs_dir / "kettle.txt").write_text("Descale the kettle monthly.\n\n" + "More about kettles. " * 400)
    documents_import(paths=[docs_dir], collection="default")
    assert _agree()
    document_delete(document=Document.objects.get(path="kettle.txt"))
    assert _agree()


def test_a_second_collection_is_counted_apart_and_deleting_one_leaves_the_other(knowledge_base, docs_dir):
    documents_import(paths=[docs_dir / "garden"], collection="garden")
    before = _counts()["default"]
    assert _counts()["garden"][0] > 0 and _agree()
    collection_delete(collection=Collection.objects.get(name="garden"))
    assert _counts()["default"] == before


def test_deleting_chunks_in_bulk_counts_them_off(knowledge_base):
    Chunk.objects.filter(collection="default", position=0).delete()  # as the admin's bulk delete does
    assert _agree()
