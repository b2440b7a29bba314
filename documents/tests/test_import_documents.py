import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from conftest import make_user, run_command, write_files
from documents.collections import personal_collection
from documents.models import Chunk, Collection, Document, Visibility
from documents.services import documents_import
from documents.tests.office import make_pptx
from documents.tests.pdf import make_pdf_pages


@pytest.fixture
def import_command(db):
    def run(*args):
        call_command("import_documents", *map(str, args), verbosity=0)

    return run


def test_import_reads_folders_recursively_and_names_sources_relative_to_them(import_command, docs_dir):
    import_command(docs_dir)

    documents = {d.path: d for d in Document.objects.all()}
    assert set(documents) == {"kettle.txt", "garden/roses.md", "bikes.html"}
    assert documents["garden/roses.md"].title == "Garden"
    assert documents["bikes.html"].metadata["file_type"] == "html"
    roses = Chunk.objects.get(document=documents["garden/roses.md"], text__contains="Prune roses")
    assert roses.heading == "Garden › Roses"
    assert len(roses.embedding) == 384


def test_reimporting_unchanged_files_does_no_work(import_command, docs_dir):
    import_command(docs_dir)
    before = list(Chunk.objects.values_list("pk", "document__updated_at"))

    report = documents_import(paths=[docs_dir])

    assert sorted(report.unchanged) == ["bikes.html", "garden/roses.md", "kettle.txt"]
    assert report.added == report.replaced == [] and report.chunks_written == 0
    assert list(Chunk.objects.values_list("pk", "document__updated_at")) == before


def test_a_changed_file_replaces_its_chunks(import_command, docs_dir):
    import_command(docs_dir)
    kettle = Document.objects.get(path="kettle.txt")
    old_chunk_ids = set(kettle.chunks.values_list("pk", flat=True))
    (docs_dir / "kettle.txt").write_text("Kettle care\n\nUse citric acid instead of vinegar.")

    report = documents_import(paths=[docs_dir])

    assert report.replaced == ["kettle.txt"] and len(report.unchanged) == 2
    kettle.refresh_from_db()
    assert Document.objects.filter(path="kettle.txt").count() == 1
    assert [c.text for c in kettle.chunks.all()] == ["Use citric acid instead of vinegar."]
    assert not Chunk.objects.filter(pk__in=old_chunk_ids).exists()


def test_a_broken_file_is_reported_by_name_and_the_rest_imported(import_command, docs_dir, capsys):
    write_files(docs_dir, {"broken.pdf": b"%PDF-1.4 garbage", "notes/latin1.txt": "caf\xe9".encode("latin-1")})

    with pytest.raises(CommandError) as failure:
        call_command("import_documents", str(docs_dir))

    assert failure.value.returncode == 1
    errors = capsys.readouterr().err
    assert "broken.pdf: not a readable PDF" in errors
    assert "notes/latin1.txt: not valid UTF-8" in errors
    assert Document.objects.count() == 3


def test_empty_files_are_reported_and_not_stored(docs_dir, db):
    write_files(docs_dir, {"empty.txt": "", "blank.html": "<html><body><script>x()</script></body></html>"})
    report = documents_import(paths=[docs_dir])
    assert sorted(report.empty) == ["blank.html", "empty.txt"]
    assert not Document.objects.filter(path__in=["empty.txt", "blank.html"]).exists()


def test_collections_are_separate(docs_dir, db):
    documents_import(paths=[docs_dir], collection="one")
    documents_import(paths=[docs_dir / "kettle.txt"], collection="two")
    assert Document.objects.filter(collection="one").count() == 3
    assert list(Document.objects.filter(collection="two").values_list("path", flat=True)) == ["kettle.txt"]


def test_a_failure_while_writing_leaves_no_half_document(docs_dir, db, monkeypatch):
    real_bulk_create = Chunk.objects.bulk_create

    def fail_for_roses(chunks, *args, **kwargs):
        chunks = list(chunks)
        if chunks[0].document.path == "garden/roses.md":
            raise RuntimeError("connection lost")
        return real_bulk_create(chunks, *args, **kwargs)

    monkeypatch.setattr(Chunk.objects, "bulk_create", fail_for_roses)
    with pytest.raises(RuntimeError):
        documents_import(paths=[docs_dir])

    # Files are taken in name order: bikes.html was written whole, roses not at all.
    assert list(Document.objects.values_list("path", flat=True)) == ["bikes.html"]
    assert Chunk.objects.filter(document__path="bikes.html").exists()


def test_an_embedding_failure_is_reported_for_the_files_of_that_batch(docs_dir, db, monkeypatch):
    from documents.embeddings import MiniLMEmbeddings

    def broken(self, texts):
        raise MemoryError("out of memory")

    monkeypatch.setattr(MiniLMEmbeddings, "embed_documents", broken)
    report = documents_import(paths=[docs_dir])
    assert sorted(source for source, _ in report.failed) == ["bikes.html", "garden/roses.md", "kettle.txt"]
    assert "embedding failed (out of memory)" in report.failed[0][1]
    assert not Document.objects.exists()


def test_a_missing_path_is_a_clear_error(import_command, tmp_path):
    with pytest.raises(CommandError, match="No such file or folder"):
        import_command(tmp_path / "nowhere")


def test_without_a_collection_an_owner_gets_the_documents_in_my_documents(docs_dir, db):
    alice = make_user("alice")
    out, _ = run_command("import_documents", str(docs_dir / "garden"), "--owner", "alice", "--verbosity", "0")
    mine = Collection.objects.get(personal=True)
    assert (mine.owner, mine.title, mine.visibility) == (alice, "My documents", Visibility.PRIVATE)
    assert list(mine.documents.values_list("path", flat=True)) == ["roses.md"]
    assert f"Collection '{mine.name}' (“My documents” of alice): 1 added" in out

    # Later imports go into the same collection, and --visibility private is what it is anyway.
    run_command("import_documents", str(docs_dir / "kettle.txt"), "--owner", "alice", "--visibility", "private")
    assert Collection.objects.filter(personal=True).count() == 1 and mine.documents.count() == 2
    assert not Collection.objects.filter(name="default").exists()


def test_my_documents_cannot_be_imported_into_as_organisation_wide(docs_dir, db):
    make_user("alice")
    with pytest.raises(CommandError, match="cannot be shared or made organisation-wide"):
        run_command("import_documents", str(docs_dir), "--owner", "alice", "--visibility", "organisation")
    assert not Collection.objects.exists() and not Document.objects.exists()  # refused before anything was made

    mine = personal_collection(get_user_model().objects.get(username="alice"))
    with pytest.raises(CommandError, match=f"'{mine.name}' is a personal collection"):
        run_command("import_documents", str(docs_dir), "--collection", mine.name, "--visibility", "organisation")
    assert not Document.objects.exists()


def test_the_help_says_where_documents_go(capsys):
    with pytest.raises(SystemExit):
        call_command("import_documents", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--owner USER alone imports into that user's personal collection, “My documents”" in help_text
    assert "A personal collection is always private." in help_text
    assert "--queue" in help_text and "a worker (`make worker`) imports them" in help_text


def test_without_owner_or_collection_documents_go_to_default_as_before(import_command, docs_dir):
    import_command(docs_dir / "kettle.txt")
    default = Collection.objects.get(name="default")
    assert (default.owner, default.visibility, default.personal) == (None, Visibility.ORGANISATION, False)


def test_passages_of_a_pdf_keep_their_page_and_those_of_a_deck_their_slide(docs_dir, db):
    pages = [["Harbour entrance depth is nine metres."], ["Storm gates close at dusk."], ["Fees are paid monthly."]]
    (docs_dir / "harbour-report.pdf").write_bytes(make_pdf_pages(pages, title="Harbour report"))
    (docs_dir / "review.pptx").write_bytes(make_pptx())

    documents_import(paths=[docs_dir])

    def pages_of(path: str) -> list[tuple[int | None, str]]:
        return [(chunk.page, chunk.text) for chunk in Chunk.objects.filter(document__path=path).order_by("position")]

    assert pages_of("harbour-report.pdf") == [(number, lines[0]) for number, lines in enumerate(pages, start=1)]
    assert [page for page, _ in pages_of("review.pptx")] == [1, 2, 3]
    assert {page for page, _ in pages_of("garden/roses.md")} == {None}  # a format without pages
