import pytest
from django.urls import reverse

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, Message, MessageStatus
from documents.models import Chunk, Document


@pytest.fixture
def exchanges(knowledge_base, alice, settings):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    ok = answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")
    failed = services.message_create(conversation=conversation, question="Kettle limescale?", chat_type="summarize")
    failed.status, failed.error = MessageStatus.FAILED, "TimeoutError: the model took too long"
    failed.save()
    return ok, failed


def test_the_conversation_page_shows_its_messages_inline_read_only(staff_client, exchanges):
    ok, failed = exchanges
    page = staff_client.get(reverse("admin:conversations_conversation_change", args=[ok.conversation_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "When to prune roses?" in html and "Kettle limescale?" in html
    assert 'name="messages-0-question"' not in html  # read-only: no editable field


def test_conversation_list_shows_message_counts(staff_client, exchanges):
    html = staff_client.get(reverse("admin:conversations_conversation_changelist")).content.decode()
    assert "When to prune roses?" in html and 'class="field-message_count">2<' in html


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"q": "prune"}, "When to prune roses?", "Kettle limescale?"),  # question text
        ({"q": "winter"}, "When to prune roses?", "Kettle limescale?"),  # answer text
        ({"chat_type__exact": "summarize"}, "Kettle limescale?", "When to prune roses?"),
        ({"has_error": "yes"}, "Kettle limescale?", "When to prune roses?"),
        ({"has_error": "no"}, "When to prune roses?", "Kettle limescale?"),
        ({"status__exact": "failed"}, "Kettle limescale?", "When to prune roses?"),
    ],
)
def test_messages_can_be_searched_and_filtered(staff_client, exchanges, query, shown, hidden):
    html = staff_client.get(reverse("admin:conversations_message_changelist"), query).content.decode()
    assert shown in html and hidden not in html


def test_the_message_page_shows_its_ranked_sources(staff_client, exchanges):
    ok, _ = exchanges
    html = staff_client.get(reverse("admin:conversations_message_change", args=[ok.pk])).content.decode()
    assert "garden/roses.md" in html  # context_used and the source inline
    assert ok.sources.count() >= 1 and 'class="field-rank"' in html


def test_date_filter_is_offered(staff_client, exchanges):
    html = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert "created_at__gte" in html


def test_documents_and_chunks_are_browsable(staff_client, knowledge_base):
    html = staff_client.get(reverse("admin:documents_document_changelist")).content.decode()
    assert "garden/roses.md" in html and 'class="field-chunk_count">' in html
    roses = Document.objects.get(path="garden/roses.md")
    assert staff_client.get(reverse("admin:documents_document_change", args=[roses.pk])).status_code == 200
    chunk = Chunk.objects.filter(document=roses).first()
    html = staff_client.get(reverse("admin:documents_chunk_changelist"), {"q": "tomatoes"}).content.decode()
    assert "Garden › Roses" in html or "Garden › Tomatoes" in html
    assert staff_client.get(reverse("admin:documents_chunk_change", args=[chunk.pk])).status_code == 200


def test_non_staff_users_cannot_open_the_admin(alice_client, exchanges):
    response = alice_client.get(reverse("admin:conversations_message_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Message.objects.count() == 2
