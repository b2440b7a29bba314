"""The chat's writes (services.py): titles, questions stored once per form submission even when
sent twice or at once, and answers reset for regenerating."""

import uuid

import pytest

from conftest import ask, run_at_once
from conversations import services
from conversations.models import Conversation, Message, MessageStatus


def test_long_titles_are_cut_at_a_word():
    title = services.title_from_question("word " * 40)
    assert len(title) <= services.TITLE_CHARS and title.endswith("…")


# --- question_submit: once per form submission ---------------------------------------------------


def test_a_different_question_sent_with_a_used_submission_id_is_stored(alice_client, knowledge_base):
    """A stream that died before its start event, or the Back button, leaves the form's id unchanged."""
    submission_id = uuid.uuid4().hex
    ask(alice_client, "When to prune roses?", submission_id=submission_id)
    response = ask(alice_client, "How do I descale the kettle?", submission_id=submission_id)

    assert list(Message.objects.order_by("id").values_list("question", flat=True)) == [
        "When to prune roses?",
        "How do I descale the kettle?",
    ]
    second = Message.objects.get(question="How do I descale the kettle?")
    assert response.url.endswith(f"#message-{second.pk}")


def test_the_same_question_sent_twice_is_stored_once(alice_client, knowledge_base):
    submission_id = uuid.uuid4().hex
    first = ask(alice_client, "When to prune roses?", submission_id=submission_id)
    again = ask(alice_client, "When to prune roses?", submission_id=submission_id)
    assert Message.objects.count() == 1 and again.url == first.url


def test_a_form_sent_twice_is_stored_and_answered_once(alice_client, knowledge_base, fake_chat_model, settings):
    settings.CHAT_MODEL = "fake:scripted"
    model = fake_chat_model("Roses are pruned in late winter [1].")  # one reply only: a second call would fail
    submission_id = uuid.uuid4().hex
    first = ask(alice_client, "When to prune roses?", submission_id=submission_id)
    again = ask(alice_client, "When to prune roses?", submission_id=submission_id)

    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert Conversation.objects.count() == 1
    message = Message.objects.get()
    assert message.status == MessageStatus.ANSWERED and message.answer == "Roses are pruned in late winter [1]."
    assert next(model.messages, None) is None


def test_resending_a_hidden_message_does_not_show_it_again(alice_client, knowledge_base):
    submission_id = uuid.uuid4().hex
    ask(alice_client, "When to prune roses?", submission_id=submission_id)
    hidden = Message.objects.get()
    Message.objects.filter(pk=hidden.pk).update(hidden=True)

    response = ask(alice_client, "When to prune roses?", submission_id=submission_id)
    asked_again = Message.objects.exclude(pk=hidden.pk).get()
    assert response.url.endswith(f"#message-{asked_again.pk}")
    page = alice_client.get(response.url).content.decode()
    assert f'id="message-{hidden.pk}"' not in page and f'id="message-{asked_again.pk}"' in page


def test_the_same_submission_id_from_another_user_is_not_theirs(client, alice, bob, knowledge_base):
    submission_id = uuid.uuid4().hex
    client.force_login(alice)
    ask(client, "Kettle?", submission_id=submission_id)
    client.force_login(bob)
    response = ask(client, "Roses?", submission_id=submission_id)
    # Bob is not sent to alice's message: his own question is stored and answered.
    bobs = Message.objects.get(conversation__owner=bob)
    assert response.url.endswith(f"#message-{bobs.pk}")
    assert bobs.question == "Roses?" and bobs.status == MessageStatus.ANSWERED
    assert Message.objects.get(conversation__owner=alice).question == "Kettle?"


@pytest.mark.django_db(transaction=True)
def test_two_copies_arriving_at_once_store_one_message(alice):
    submission_id = uuid.uuid4()

    def submit() -> tuple[int, bool]:
        message, created = services.question_submit(
            owner=alice, conversation=None, question="Kettle?", chat_type="answer",
            submission_id=submission_id, request_id="",
        )  # fmt: skip
        return message.pk, created

    results, errors = run_at_once(submit)

    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert Message.objects.count() == 1 and Conversation.objects.count() == 1


def test_storing_a_question_costs_only_its_writes(alice, django_assert_num_queries):
    """Every answer starts here: the new conversation, the message and the conversation's title, in
    one transaction (a savepoint inside the test's own), and no lookup of the submission id or the owner."""
    with django_assert_num_queries(5):
        message, _ = services.question_submit(owner=alice, conversation=None, question="Roses?", chat_type="answer",
                                              submission_id=uuid.uuid4(), request_id="")  # fmt: skip
    with django_assert_num_queries(4):  # a follow-up: the message and the conversation's order
        services.question_submit(owner=alice, conversation=message.conversation, question="And tulips?",
                                 chat_type="answer", submission_id=uuid.uuid4(), request_id="")  # fmt: skip
    assert Message.objects.filter(conversation=message.conversation).count() == 2


# --- message_reset: an answer written again --------------------------------------------------------


def test_two_regenerate_clicks_at_once_answer_once(transactional_db, alice, knowledge_base):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Roses?", chat_type="answer")
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.ANSWERED, answer="Prune in winter.")

    results, errors = run_at_once(lambda: services.message_reset(message=Message.objects.get(pk=message.pk)), 2)
    assert not errors and sorted(results) == [False, True]


def test_a_question_still_being_answered_is_not_reset(alice, db):
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    message = services.message_create(conversation=conversation, question="Roses?", chat_type="answer")
    assert not services.message_reset(message=message)  # pending, and recently started
