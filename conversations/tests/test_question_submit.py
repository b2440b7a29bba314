"""Sending a question: stored once per form, never silently dropped, never from a cached page."""

import uuid

from django.urls import reverse

from conversations.models import Message


def _send(client, question: str, submission_id: str):
    form = {"question": question, "chat_type": "answer", "submission_id": submission_id}
    return client.post(reverse("conversations:create"), form)


def test_a_different_question_sent_with_a_used_submission_id_is_stored(alice_client, knowledge_base):
    """A stream that died before its start event, or the Back button, leaves the form's id unchanged."""
    submission_id = uuid.uuid4().hex
    _send(alice_client, "When to prune roses?", submission_id)
    response = _send(alice_client, "How do I descale the kettle?", submission_id)

    assert list(Message.objects.order_by("id").values_list("question", flat=True)) == [
        "When to prune roses?",
        "How do I descale the kettle?",
    ]
    second = Message.objects.get(question="How do I descale the kettle?")
    assert response.url.endswith(f"#message-{second.pk}")


def test_the_same_question_sent_twice_is_stored_once(alice_client, knowledge_base):
    submission_id = uuid.uuid4().hex
    first = _send(alice_client, "When to prune roses?", submission_id)
    again = _send(alice_client, "When to prune roses?", submission_id)
    assert Message.objects.count() == 1 and again.url == first.url


def test_resending_a_hidden_message_does_not_show_it_again(alice_client, knowledge_base):
    submission_id = uuid.uuid4().hex
    _send(alice_client, "When to prune roses?", submission_id)
    hidden = Message.objects.get()
    Message.objects.filter(pk=hidden.pk).update(hidden=True)

    response = _send(alice_client, "When to prune roses?", submission_id)
    asked_again = Message.objects.exclude(pk=hidden.pk).get()
    assert response.url.endswith(f"#message-{asked_again.pk}")
    page = alice_client.get(response.url).content.decode()
    assert f'id="message-{hidden.pk}"' not in page and f'id="message-{asked_again.pk}"' in page


def test_pages_with_a_question_form_are_never_cached(alice_client, knowledge_base):
    _send(alice_client, "When to prune roses?", uuid.uuid4().hex)
    conversation = Message.objects.get().conversation
    for url in (reverse("conversations:list"), reverse("conversations:detail", args=[conversation.pk])):
        assert "no-store" in alice_client.get(url)["Cache-Control"]
