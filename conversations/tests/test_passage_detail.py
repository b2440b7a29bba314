"""A cited passage (views.passage_detail): the chunk highlighted in its document, as it was given
to the answer even after the document changed."""

from django.urls import reverse

from conftest import answer_question, make_user
from conversations import services
from documents.collections import collection_get_or_create, collection_share, collection_unshare
from documents.models import Chunk, Collection, Document, Role, Visibility
from documents.services import documents_import
from documents.tests.pdf import make_pdf_pages


def passage_url(message, number: int = 1) -> str:
    return reverse("conversations:passage", args=[message.conversation_id, message.pk, number])


def test_the_passage_requires_login(client, alices_message):
    response = client.get(passage_url(alices_message))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_another_users_passage_is_404(client, bob, alices_message):
    client.force_login(bob)
    assert client.get(passage_url(alices_message)).status_code == 404


def test_a_citation_opens_the_chunk_highlighted_in_its_document(alice_client, alices_message):
    page = alice_client.get(passage_url(alices_message)).content.decode()
    assert "garden/roses.md" in page
    assert 'class="cited" aria-current="true"' in page
    assert "Prune roses in late winter" in page
    assert "Water tomatoes" in page  # the rest of the document is shown around it


def test_the_passage_links_to_its_whole_document_at_the_passage(alice_client, alices_message):
    cited = alices_message.passage(1)
    page = alice_client.get(passage_url(alices_message)).content.decode()
    document_url = reverse("documents:document", args=[cited.collection, cited.document_id])
    assert f'href="{document_url}?chunk={cited.chunk_id}#chunk-{cited.position}">Open the whole document</a>' in page
    document_page = alice_client.get(document_url, {"chunk": cited.chunk_id}).content.decode()
    assert f'<section id="chunk-{cited.position}" class="cited" aria-current="true">' in document_page


def test_a_citation_number_the_answer_does_not_have_is_404(alice_client, alices_message):
    assert alice_client.get(passage_url(alices_message, 99)).status_code == 404


def test_a_cited_chunk_replaced_by_a_reimport_still_shows_the_passage_used(alice_client, alices_message, docs_dir):
    (docs_dir / "garden" / "roses.md").write_text("# Garden\n\n## Roses\n\nNew advice entirely.")
    documents_import(paths=[docs_dir])
    page = alice_client.get(passage_url(alices_message)).content.decode()
    assert "has changed since the answer was given" in page
    assert "Prune roses in late winter" in page


def test_a_passage_of_a_collection_no_longer_shared_is_404_and_the_answer_stays(alice, alice_client, docs_dir):
    carol = make_user("carol")
    collection_get_or_create(name="garden", owner=carol, visibility=Visibility.PRIVATE)
    documents_import(paths=[docs_dir / "garden"], collection="garden")
    garden = Collection.objects.get(name="garden")
    collection_share(collection=garden, user=alice, role=Role.READER)
    message = answer_question(
        conversation=services.conversation_create(owner=alice, chat_type="answer"), question="When to prune roses?"
    )
    assert message.passage(1).collection == "garden"
    assert alice_client.get(passage_url(message)).status_code == 200

    collection_unshare(collection=garden, user=alice)
    assert alice_client.get(passage_url(message)).status_code == 404
    page = alice_client.get(reverse("conversations:detail", args=[message.conversation_id])).content.decode()
    assert "Prune roses in late winter" in page  # the answer already given stays


def test_the_sources_citation_and_passage_name_the_pdf_page(alice, alice_client, tmp_path):
    pages = [["Harbour entrance depth is nine metres."], ["Storm gates close at dusk every evening."]]
    (tmp_path / "harbour-report.pdf").write_bytes(make_pdf_pages(pages, title="Harbour report"))
    documents_import(paths=[tmp_path])
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = answer_question(conversation=conversation, question="When do the storm gates close?")
    assert message.passage(1).page == 2

    chat = alice_client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()
    assert "Harbour report › page 2 · harbour-report.pdf, p. 2 ·" in chat  # the sources list
    assert 'title="Open passage 1: harbour-report.pdf, p. 2"' in chat  # the citation
    passage = alice_client.get(passage_url(message)).content.decode()
    assert "harbour-report.pdf, p. 2 · collection default" in passage
    # The original is kept by the import, so the passage opens it at its page in the browser's viewer.
    document = message.passage(1)
    original = reverse(
        "documents:document_original", args=["default", Chunk.objects.get(pk=document.chunk_id).document_id]
    )
    assert f'href="{original}#page=2">Open the original (harbour-report.pdf, p. 2)</a>' in passage


def test_a_passage_whose_document_kept_no_original_offers_none(alice_client, alices_message):
    Document.objects.update(original="")
    passage = alice_client.get(passage_url(alices_message)).content.decode()
    assert "Open the original" not in passage and "Open the whole document" in passage
