"""Renaming a conversation or changing its answer style (views.conversation_update)."""

from django.urls import reverse


def test_rename_and_change_the_answer_style(alice_client, alices_conversation):
    url = reverse("conversations:update", args=[alices_conversation.pk])
    response = alice_client.post(url, {"title": "Garden questions", "chat_type": "summarize"}, follow=True)
    alices_conversation.refresh_from_db()
    assert (alices_conversation.title, alices_conversation.chat_type) == ("Garden questions", "summarize")
    page = response.content.decode()
    assert "Conversation updated." in page and "Answer style: <strong>Summarize</strong>" in page
    assert '<option value="summarize" selected>' in page  # the ask form follows the conversation


def test_an_empty_title_is_refused(alice_client, alices_conversation):
    url = reverse("conversations:update", args=[alices_conversation.pk])
    response = alice_client.post(url, {"title": "", "chat_type": "answer"}, follow=True)
    assert "Please give the conversation a title" in response.content.decode()
    alices_conversation.refresh_from_db()
    assert alices_conversation.title == "Roses"


def test_other_users_cannot_rename(client, bob, alices_conversation):
    client.force_login(bob)
    url = reverse("conversations:update", args=[alices_conversation.pk])
    assert client.post(url, {"title": "Mine", "chat_type": "answer"}).status_code == 404
    alices_conversation.refresh_from_db()
    assert alices_conversation.title == "Roses"
