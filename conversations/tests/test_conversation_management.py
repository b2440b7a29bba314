import pytest
from django.urls import reverse

from conftest import answer_question
from conversations import services
from conversations.models import ChatType, Conversation, Feedback, Message


@pytest.fixture
def conversation(alice):
    return services.conversation_create(owner=alice, chat_type=ChatType.ANSWER, title="Roses")


@pytest.fixture
def answered(knowledge_base, conversation):
    return answer_question(conversation=conversation, question="When to prune roses?", chat_type="answer")


def test_rename_and_change_the_answer_style(alice_client, conversation):
    url = reverse("conversations:update", args=[conversation.pk])
    response = alice_client.post(url, {"title": "Garden questions", "chat_type": "summarize"}, follow=True)
    conversation.refresh_from_db()
    assert (conversation.title, conversation.chat_type) == ("Garden questions", "summarize")
    page = response.content.decode()
    assert "Conversation updated." in page and "Answer style: <strong>Summarize</strong>" in page
    assert '<option value="summarize" selected>' in page  # the ask form follows the conversation


def test_an_empty_title_is_refused(alice_client, conversation):
    response = alice_client.post(
        reverse("conversations:update", args=[conversation.pk]), {"title": "", "chat_type": "answer"}, follow=True
    )
    assert "Please give the conversation a title" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.title == "Roses"


def test_delete_asks_for_confirmation_then_deletes_everything(alice_client, answered):
    conversation = answered.conversation
    url = reverse("conversations:delete", args=[conversation.pk])
    page = alice_client.get(url).content.decode()
    assert "Delete this conversation?" in page and "1 message" in page
    assert Conversation.objects.filter(pk=conversation.pk).exists()

    response = alice_client.post(url, follow=True)
    assert "Deleted “Roses”." in response.content.decode()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(pk=answered.pk).exists()


def test_other_users_cannot_rename_or_delete(client, bob, conversation):
    client.force_login(bob)
    assert (
        client.post(
            reverse("conversations:update", args=[conversation.pk]), {"title": "Mine", "chat_type": "answer"}
        ).status_code
        == 404
    )
    assert client.get(reverse("conversations:delete", args=[conversation.pk])).status_code == 404
    assert client.post(reverse("conversations:delete", args=[conversation.pk])).status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "Roses"


def test_search_finds_conversations_by_title_and_question(alice_client, alice, answered):
    services.conversation_create(owner=alice, chat_type="answer", title="Kettle care")
    page = alice_client.get(reverse("conversations:list"), {"q": "prune"}).content.decode()
    assert "Roses" in page and "Kettle care" not in page
    page = alice_client.get(reverse("conversations:list"), {"q": "kettle"}).content.decode()
    assert "Kettle care" in page and ">Roses<" not in page
    page = alice_client.get(reverse("conversations:list"), {"q": "nothing like this"}).content.decode()
    assert "No conversation matches" in page


def test_the_list_is_newest_first_and_paginated(alice_client, alice):
    for number in range(25):
        services.conversation_create(owner=alice, chat_type="answer", title=f"Topic {number:02d}")
    first_page = alice_client.get(reverse("conversations:list")).content.decode()
    assert first_page.index("Topic 24") < first_page.index("Topic 23")
    assert "Topic 04" not in first_page and "Page 1 of 2" in first_page
    second_page = alice_client.get(reverse("conversations:list"), {"page": 2}).content.decode()
    assert "Topic 04" in second_page and "Topic 24" not in second_page


def test_feedback_with_a_comment_is_stored_on_the_message(alice_client, answered):
    url = reverse("conversations:feedback", args=[answered.conversation_id, answered.pk])
    alice_client.post(url, {"feedback": "-1"})
    alice_client.post(url, {"feedback": "-1", "comment": "It missed the climbing roses."})
    answered.refresh_from_db()
    assert answered.feedback == Feedback.DOWN
    assert answered.feedback_comment == "It missed the climbing roses."
    assert answered.feedback_at is not None


def test_feedback_from_javascript_returns_the_updated_message(alice_client, answered):
    url = reverse("conversations:feedback", args=[answered.conversation_id, answered.pk])
    response = alice_client.post(url, {"feedback": "1"}, HTTP_X_FRAGMENT="message")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="message" id="message-{answered.pk}"')
    assert 'aria-pressed="true">Good answer' in html and "Thanks for your feedback." in html


def test_invalid_feedback_is_refused(alice_client, answered):
    url = reverse("conversations:feedback", args=[answered.conversation_id, answered.pk])
    response = alice_client.post(url, {"feedback": "7"}, follow=True)
    assert "could not be saved" in response.content.decode()
    answered.refresh_from_db()
    assert answered.feedback is None
