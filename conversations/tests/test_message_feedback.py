"""Feedback on an answer (views.message_feedback): good or bad, with a comment, from the page or
from its script."""

from django.urls import reverse
from django.utils import timezone

from conversations.models import Feedback


def feedback_url(message) -> str:
    return reverse("conversations:feedback", args=[message.conversation_id, message.pk])


def test_feedback_with_a_comment_is_stored_on_the_message(alice_client, alices_message):
    before = timezone.now()
    alice_client.post(feedback_url(alices_message), {"feedback": "-1"})
    alice_client.post(feedback_url(alices_message), {"feedback": "-1", "comment": "It missed the climbing roses."})
    alices_message.refresh_from_db()
    assert alices_message.feedback == Feedback.DOWN
    assert alices_message.feedback_comment == "It missed the climbing roses."
    assert before < alices_message.feedback_at < timezone.now()


def test_feedback_from_javascript_returns_the_updated_message(alice_client, alices_message):
    response = alice_client.post(feedback_url(alices_message), {"feedback": "1"}, HTTP_X_FRAGMENT="message")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<article class="message" id="message-{alices_message.pk}"')
    assert 'aria-pressed="true">Good answer' in html and "Thanks for your feedback." in html


def test_invalid_feedback_is_refused(alice_client, alices_message):
    response = alice_client.post(feedback_url(alices_message), {"feedback": "7"}, follow=True)
    assert "could not be saved" in response.content.decode()
    alices_message.refresh_from_db()
    assert alices_message.feedback is None


def test_feedback_on_another_users_answer_is_404(client, bob, alices_message):
    client.force_login(bob)
    response = client.post(feedback_url(alices_message), {"feedback": 1})
    assert response.status_code == 404
    alices_message.refresh_from_db()
    assert alices_message.feedback is None
