"""A cited passage (views.passage_detail): the chunk highlighted in its document, as it was given
to the answer even after the document changed."""

from django.urls import reverse

from documents.services import documents_import


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


def test_a_citation_number_the_answer_does_not_have_is_404(alice_client, alices_message):
    assert alice_client.get(passage_url(alices_message, 99)).status_code == 404


def test_a_cited_chunk_replaced_by_a_reimport_still_shows_the_passage_used(alice_client, alices_message, docs_dir):
    (docs_dir / "garden" / "roses.md").write_text("# Garden\n\n## Roses\n\nNew advice entirely.")
    documents_import(paths=[docs_dir])
    page = alice_client.get(passage_url(alices_message)).content.decode()
    assert "has changed since the answer was given" in page
    assert "Prune roses in late winter" in page
