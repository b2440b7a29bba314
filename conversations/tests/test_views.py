import pytest
from django.test import Client
from django.urls import reverse

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, Conversation, Message


@pytest.fixture
def alices_message(knowledge_base, alice):
    conversation = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    return answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")


def test_pages_require_login(client, alices_message):
    conversation = alices_message.conversation
    urls = [
        reverse("conversations:list"),
        reverse("conversations:detail", args=[conversation.pk]),
        reverse("conversations:passage", args=[conversation.pk, alices_message.pk, 1]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    response = client.post(
        reverse("conversations:ask", args=[conversation.pk]), {"question": "x", "chat_type": "answer"}
    )
    assert response.status_code == 302
    assert Message.objects.count() == 1


def test_login_page_logs_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response.url == reverse("conversations:list")


def test_asking_a_first_question_starts_a_conversation_and_shows_the_cited_answer(alice_client, knowledge_base):
    response = alice_client.post(
        reverse("conversations:create"), {"question": "How often should I oil the chain?", "chat_type": "explain"}
    )
    conversation = Conversation.objects.get()
    message = conversation.messages.get()
    assert response.status_code == 302
    assert response.url == reverse("conversations:detail", args=[conversation.pk]) + f"#message-{message.pk}"
    assert message.chat_type == "explain" and conversation.chat_type == "explain"

    page = alice_client.get(response.url).content.decode()
    assert "How often should I oil the chain?" in page
    assert "300 kilometres" in page
    source_url = reverse("conversations:passage", args=[conversation.pk, message.pk, 1])
    assert f'<a class="citation" href="{source_url}"' in page
    assert "Bicycle maintenance" in page  # the sources list names the document


def test_a_follow_up_question_joins_the_conversation_and_earlier_messages_stay(alice_client, alices_message):
    conversation = alices_message.conversation
    response = alice_client.post(
        reverse("conversations:ask", args=[conversation.pk]),
        {"question": "How do I descale a kettle?", "chat_type": "answer"},
    )
    assert response.status_code == 302
    page = alice_client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()
    assert page.index("When to prune roses?") < page.index("How do I descale a kettle?")


def test_a_citation_opens_the_chunk_highlighted_in_its_document(alice_client, alices_message):
    conversation = alices_message.conversation
    url = reverse("conversations:passage", args=[conversation.pk, alices_message.pk, 1])
    page = alice_client.get(url).content.decode()
    assert "garden/roses.md" in page
    assert 'class="cited" aria-current="true"' in page
    assert "Prune roses in late winter" in page
    assert "Water tomatoes" in page  # the rest of the document is shown around it


def test_a_citation_number_the_answer_does_not_have_is_404(alice_client, alices_message):
    url = reverse("conversations:passage", args=[alices_message.conversation_id, alices_message.pk, 99])
    assert alice_client.get(url).status_code == 404


def test_a_cited_chunk_replaced_by_a_reimport_still_shows_the_passage_used(alice_client, alices_message, docs_dir):
    from documents.services import documents_import

    (docs_dir / "garden" / "roses.md").write_text("# Garden\n\n## Roses\n\nNew advice entirely.")
    documents_import(paths=[docs_dir])
    url = reverse("conversations:passage", args=[alices_message.conversation_id, alices_message.pk, 1])
    page = alice_client.get(url).content.decode()
    assert "has changed since the answer was given" in page
    assert "Prune roses in late winter" in page


def test_another_user_gets_404_everywhere(client, bob, alices_message):
    client.force_login(bob)
    conversation = alices_message.conversation
    assert client.get(reverse("conversations:detail", args=[conversation.pk])).status_code == 404
    assert client.get(reverse("conversations:passage", args=[conversation.pk, alices_message.pk, 1])).status_code == 404
    response = client.post(
        reverse("conversations:ask", args=[conversation.pk]), {"question": "hi", "chat_type": "answer"}
    )
    assert response.status_code == 404
    assert conversation.messages.count() == 1
    assert "When to prune roses?" not in client.get(reverse("conversations:list")).content.decode()


def test_an_empty_question_is_refused_with_a_message_and_nothing_stored(alice_client, alices_message):
    conversation = alices_message.conversation
    response = alice_client.post(
        reverse("conversations:ask", args=[conversation.pk]), {"question": "   \n ", "chat_type": "answer"}
    )
    assert response.status_code == 400
    assert "Please type a question." in response.content.decode()
    assert conversation.messages.count() == 1


def test_a_too_long_question_is_refused_and_kept_in_the_form(alice_client, settings, db):
    settings.MAX_QUESTION_CHARS = 50
    question = "why " * 30
    response = alice_client.post(reverse("conversations:create"), {"question": question, "chat_type": "answer"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 50 characters" in page and question.strip() in page
    assert not Conversation.objects.exists()


def test_html_in_a_question_is_shown_as_text(alice_client, knowledge_base):
    alice_client.post(
        reverse("conversations:create"), {"question": "<script>alert(1)</script> roses?", "chat_type": "answer"}
    )
    conversation = Conversation.objects.get()
    page = alice_client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; roses?" in page


def test_posting_without_a_csrf_token_is_refused(alice, knowledge_base):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse("conversations:create"), {"question": "roses?", "chat_type": "answer"})
    assert response.status_code == 403
    assert not Conversation.objects.exists()


def test_a_failed_answer_is_shown_with_its_error(alice_client, knowledge_base, openai_stub):
    openai_stub.status = 500
    response = alice_client.post(
        reverse("conversations:create"), {"question": "Roses?", "chat_type": "answer"}, follow=True
    )
    page = response.content.decode()
    message = Message.objects.get()
    assert "The answer could not be produced: The language model service failed (HTTP 500)." in page
    assert "Your question is saved" in page and message.request_id in page  # a reference to report
    # What the provider said (it may name hosts or internals) is for staff only.
    assert "overloaded" in message.error_detail and "overloaded" not in page
