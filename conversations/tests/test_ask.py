"""Asking (views.conversation_create, a first question, and views.message_create, one in a
conversation): both validate the same form, meter the same rate limit and answer the same way,
so they are tested together, mostly through the first.

Every input either gets a clear error message (400, nothing stored) or is stored, answered and
shown as text; a hostile model answer is shown inert.
"""

import random
import re

import pytest
from django.template.defaultfilters import linebreaksbr
from django.test import Client
from django.urls import reverse

from conftest import STREAM, ask, page_of, read_events, run_at_once
from conversations.models import Conversation, Message, MessageStatus

JUNK = random.Random(20240607).randbytes(2000).decode("latin-1")  # controls, C1 codes and (with this seed) NULs


def test_asking_a_first_question_starts_a_conversation_and_shows_the_cited_answer(alice_client, knowledge_base):
    response = ask(alice_client, "How often should I oil the chain?", chat_type="explain")
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
    response = ask(alice_client, "How do I descale a kettle?", conversation=conversation)
    assert response.status_code == 302
    page = alice_client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()
    assert page.index("When to prune roses?") < page.index("How do I descale a kettle?")


def test_asking_requires_login(client, alices_message):
    response = ask(client, "x", conversation=alices_message.conversation)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert Message.objects.count() == 1


def test_asking_in_another_users_conversation_is_404(client, bob, alices_message):
    client.force_login(bob)
    conversation = alices_message.conversation
    assert ask(client, "hi", conversation=conversation).status_code == 404
    assert conversation.messages.count() == 1


def test_posting_without_a_csrf_token_is_refused(alice, knowledge_base):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = ask(client, "roses?")
    assert response.status_code == 403
    assert not Conversation.objects.exists()


# --- Questions refused -------------------------------------------------------------------------


def test_an_empty_question_is_refused_with_a_message_and_nothing_stored(alice_client, alices_message):
    conversation = alices_message.conversation
    response = ask(alice_client, "   \n ", conversation=conversation)
    assert response.status_code == 400
    assert "Please type a question." in response.content.decode()
    assert conversation.messages.count() == 1


def test_a_too_long_question_is_refused_and_kept_in_the_form(alice_client, settings, db):
    settings.MAX_QUESTION_CHARS = 50
    question = "why " * 30
    response = ask(alice_client, question)
    assert response.status_code == 400
    page = response.content.decode()
    assert "at most 50 characters" in page and question.strip() in page
    assert not Conversation.objects.exists()


@pytest.mark.parametrize(
    "question, error",
    [
        pytest.param("", "Please type a question.", id="empty"),
        pytest.param("\t\u00a0\u2003\u3000\r\n", "Please type a question.", id="unicode whitespace only"),
        pytest.param("x" * 1_000_000, "at most 4000 characters long (this one has 1000000)", id="1 MB"),
        pytest.param("When to prune\x00 roses?", "Null characters are not allowed.", id="NUL byte"),
        pytest.param(JUNK, "Null characters are not allowed.", id="binary junk"),
    ],
)
def test_unusable_questions_are_refused_with_a_message_and_nothing_is_stored(
    alice_client, knowledge_base, settings, question, error
):
    settings.MAX_QUESTION_CHARS = 4000
    response = ask(alice_client, question)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Conversation.objects.exists() and not Message.objects.exists()


def test_a_request_body_over_djangos_limit_gets_a_readable_page(alice_client, db):
    response = ask(alice_client, "x" * 3_000_000)  # over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    assert response.status_code == 400
    assert "could not be accepted" in response.content.decode()
    assert Message.objects.count() == 0


# --- The rate limit ----------------------------------------------------------------------------


def test_asking_faster_than_the_rate_limit_is_refused_with_a_clear_message(alice_client, knowledge_base, settings):
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 2, 3600
    assert ask(alice_client, "Kettle?").status_code == 302
    assert ask(alice_client, "Roses?").status_code == 302

    refused = ask(alice_client, "Tyres?")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "You have asked 2 questions in 3600 seconds" in page and "Please wait" in page
    assert "Tyres?" in page  # the question is given back in the form, not lost
    streamed = ask(alice_client, "Tyres?", **STREAM)
    assert streamed.status_code == 429 and not streamed.streaming
    assert Message.objects.count() == 2


def test_the_rate_limit_is_per_user(client, alice, bob, knowledge_base, settings):
    # An hour's window: the default minute's could end between the two questions (a test failed so).
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 1, 3600
    client.force_login(alice)
    ask(client, "Kettle?")
    assert ask(client, "Roses?").status_code == 429
    client.force_login(bob)
    assert ask(client, "Roses?").status_code == 302


# --- Odd questions, stored and shown as text ------------------------------------------------------


def test_parallel_questions_never_pass_the_limit(transactional_db, alice, knowledge_base, settings):
    """Twenty questions sent at once against a limit of five: five are stored and answered."""
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 5, 3600

    def send():
        client = Client()
        client.force_login(alice)
        return ask(client, "How do I descale the kettle?").status_code

    statuses, errors = run_at_once(send, 20)
    assert not errors and sorted(statuses) == [302] * 5 + [429] * 15
    assert Message.objects.filter(status=MessageStatus.ANSWERED).count() == Message.objects.count() == 5


def test_html_in_a_question_is_shown_as_text(alice_client, knowledge_base):
    ask(alice_client, "<script>alert(1)</script> roses?")
    conversation = Conversation.objects.get()
    page = alice_client.get(reverse("conversations:detail", args=[conversation.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; roses?" in page


@pytest.mark.parametrize(
    "question, raw",
    [
        pytest.param(JUNK.replace("\x00", "")[:1500], [], id="binary junk without NUL"),
        pytest.param(
            "\u202eكيف أقلم الورد؟\u202c \u202dמתי לגזום ורדים?\u202c \u2067roses\u2069 \u200f[\u0661]",
            [],
            id="right-to-left with overrides",
        ),
        pytest.param(
            "When do I prune 🌹? 👩‍🌾 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 🇳🇱",
            [],
            id="emoji and ZWJ sequences",
        ),
        pytest.param(
            "<img src=x onerror=alert(1)> <svg onload=alert(1)> \"roses\" & 'pruning'",
            ["<img src=x onerror", "<svg onload"],
            id="html",
        ),
        pytest.param(
            "[click](javascript:alert(1)) <javascript:alert(2)> ![x](https://evil.example/t.png) **roses** [1]",
            ["<strong>roses", 'href="javascript', "<img"],
            id="markdown link tricks",
        ),
    ],
)
def test_odd_questions_are_stored_answered_and_shown_as_text(alice_client, knowledge_base, question, raw):
    response = ask(alice_client, question)

    message = Message.objects.get()
    assert response.status_code == 302 and message.status == MessageStatus.ANSWERED
    assert message.question == question.strip()  # stored as typed: overrides, joiners and all
    page = page_of(alice_client, message)
    assert linebreaksbr(message.question, autoescape=True) in page
    listing = alice_client.get(reverse("conversations:list")).content.decode()
    for markup in raw:
        assert markup not in page and markup not in listing


# --- A hostile model answer, shown inert ----------------------------------------------------------

HOSTILE_ANSWER = (
    'Prune roses in late winter [1]. <script>alert("answer")</script> '
    "<img src=x onerror=alert(1)> [click](javascript:alert(1)) [again](JaVaScRiPt&#58;alert(1))"
)


@pytest.fixture(params=["openai_stub", "fake_chat_model"])
def hostile_model(request, settings):
    """A chat model, over the wire or LangChain's fake, that answers with markup and script links."""
    if request.param == "openai_stub":
        request.getfixturevalue("openai_stub").reply = HOSTILE_ANSWER
    else:
        settings.CHAT_MODEL = "fake:hostile"
        request.getfixturevalue("fake_chat_model")(HOSTILE_ANSWER)


def assert_inert_answer(html: str) -> None:
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"href=\"\s*javascript", html, re.IGNORECASE)
    assert '<a class="citation"' in html  # the real citation still works


def test_markup_and_script_links_in_a_model_answer_are_inert(alice_client, knowledge_base, hostile_model):
    events = read_events(ask(alice_client, "When to prune roses?", **STREAM))

    message = Message.objects.get()
    assert message.answer == HOSTILE_ANSWER  # stored as the model wrote it; made safe when shown
    assert events[-1]["status"] == MessageStatus.ANSWERED
    assert_inert_answer(events[-1]["html"])
    assert_inert_answer(page_of(alice_client, message).split("data-answer-text>", 1)[1])
