"""Answers outlive the documents they cited: deleting a document in the admin keeps what was cited."""

import pytest
from django.urls import reverse

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, MessageSource


@pytest.fixture
def answered(knowledge_base, alice):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    return answer_question(conversation=conversation, question="When to prune roses?")


def cited_document(message):
    """The document of the first passage of an answer, and the message sources that cite it."""
    passage = message.passages()[0]
    cited = MessageSource.objects.filter(message=message, chunk__document_id=passage.document_id)
    return passage, list(cited.values_list("pk", flat=True))


def test_deleting_the_cited_document_keeps_the_message_sources_and_the_passage_page(staff_client, answered, client):
    passage, cited_pks = cited_document(answered)
    assert passage.path == "garden/roses.md" and cited_pks

    response = staff_client.post(
        reverse("admin:documents_document_delete", args=[passage.document_id]), {"post": "yes"}
    )

    assert response.status_code == 302
    sources = MessageSource.objects.filter(pk__in=cited_pks)
    assert list(sources.values_list("chunk", flat=True)) == [None] * len(cited_pks)
    client.force_login(answered.conversation.owner)
    page = client.get(reverse("conversations:passage", args=[answered.conversation_id, answered.pk, passage.n]))
    html = page.content.decode()
    assert page.status_code == 200 and "This document has changed since the answer was given." in html
    assert "Prune roses in late winter" in html


def test_deleting_selected_documents_keeps_every_message_source(staff_client, answered):
    before = answered.sources.count()
    staff_client.post(
        reverse("admin:documents_document_changelist"),
        {"action": "delete_selected", "_selected_action": [p.document_id for p in answered.passages()], "post": "yes"},
    )
    assert answered.sources.count() == before > 0
    assert set(answered.sources.values_list("chunk", flat=True)) == {None}
