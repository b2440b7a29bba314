"""A conversation's page (views.conversation_detail): its messages, failed answers with a reason
the user can act on, and never from a cache."""

from django.urls import reverse

from conftest import ask
from conversations.models import Message


def test_the_page_requires_login(client, alices_message):
    response = client.get(reverse("conversations:detail", args=[alices_message.conversation_id]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_another_users_conversation_is_404(client, bob, alices_message):
    client.force_login(bob)
    assert client.get(reverse("conversations:detail", args=[alices_message.conversation_id])).status_code == 404


def test_the_page_is_never_cached(alice_client, alices_message):
    response = alice_client.get(reverse("conversations:detail", args=[alices_message.conversation_id]))
    assert "no-store" in response["Cache-Control"]  # the page has a question form


def test_a_failed_answer_is_shown_with_its_error(alice_client, knowledge_base, openai_stub):
    openai_stub.status = 500
    response = ask(alice_client, "Roses?", follow=True)
    page = response.content.decode()
    message = Message.objects.get()
    assert "The answer could not be produced: The language model service failed (HTTP 500)." in page
    assert "Your question is saved" in page and message.request_id in page  # a reference to report
    # What the provider said (it may name hosts or internals) is for staff only.
    assert "overloaded" in message.error_detail and "overloaded" not in page
