"""Deleting a conversation (views.conversation_delete): confirmed first, then everything goes."""

from django.urls import reverse

from conversations.models import Conversation, Message


def test_delete_asks_for_confirmation_then_deletes_everything(alice_client, alices_message):
    conversation = alices_message.conversation
    url = reverse("conversations:delete", args=[conversation.pk])
    page = alice_client.get(url).content.decode()
    assert "Delete this conversation?" in page and "1 message" in page
    assert Conversation.objects.filter(pk=conversation.pk).exists()

    response = alice_client.post(url, follow=True)
    assert "Deleted “Roses”." in response.content.decode()
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(pk=alices_message.pk).exists()


def test_other_users_cannot_delete(client, bob, alices_conversation):
    client.force_login(bob)
    url = reverse("conversations:delete", args=[alices_conversation.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    alices_conversation.refresh_from_db()
    assert alices_conversation.title == "Roses"
