"""The chat in a real headless Chromium (Debian's package), driven by Playwright.

Run by `make test`, which installs Chromium; skipped with a reason where it is missing.
Set UPDATE_SCREENSHOTS=1 to refresh the README's screenshot of the chat from this run.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import answer_question, make_user, write_files
from conversations import services
from conversations.models import ChatType, Conversation, Message, MessageStatus
from documents.collections import collection_get_or_create
from documents.services import documents_import
from ragchat.tests.browser import BROWSER_TESTS, PHONE, WIDE, bounds, log_in, screenshot

pytestmark = BROWSER_TESTS


@pytest.fixture
def kb(transactional_db, docs_dir):
    write_files(docs_dir, {"tricks.md": "# Tricks\n\nA <script>alert('doc')</script> tag in a document about kettles."})
    documents_import(paths=[docs_dir])


def ask(page, question: str) -> None:
    box = page.get_by_label("Question")
    box.fill(question)
    box.press("Enter")


def test_ask_stream_cite_follow_up_feedback_rename_and_delete(page, live_server, kb, openai_stub):
    make_user("alice")
    openai_stub.replies = [
        "Prune roses in **late winter**, just above an outward-facing bud [1].",
        "Roses: what to remove first",
        "Remove the dead wood first [1].",
    ]
    openai_stub.token_delay = 0.15
    log_in(page, live_server, "alice")

    ask(page, "When should I prune my roses?")
    live = page.locator(".answer-text.live")
    live.wait_for()
    # Locator assertions, not wait_for_function: that evaluates strings, which the CSP forbids.
    expect(page.locator(".live")).not_to_be_empty()
    assert "outward-facing" not in live.text_content()  # it arrives piece by piece
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    answer = page.locator("article.message").last
    assert answer.locator("strong").text_content() == "late winter"  # Markdown rendered
    citation = answer.locator("a.citation").first
    assert citation.text_content() == "[1]"

    # Open the citation: the chunk is highlighted inside its document.
    answer.locator("summary", has_text="Sources").click()
    assert "Garden" in answer.locator(".sources li").first.text_content()
    citation.click()
    page.wait_for_url(re.compile(r"/passages/1/$"))
    assert "Prune roses in late winter" in page.locator(".cited").text_content()
    page.go_back()

    # A follow-up question is rewritten with the conversation and answered in place.
    ask(page, "And what do I remove first?")
    page.locator("article.message:not(.streaming)").nth(1).wait_for()
    follow_up = page.locator("article.message").nth(1)
    assert "Searched for: Roses: what to remove first" in follow_up.text_content()
    assert "Remove the dead wood first" in follow_up.text_content()

    # Feedback with a comment, without a page reload.
    follow_up.get_by_role("button", name="Good answer").click()
    page.get_by_label("Tell us more (optional)").fill("Clear and short.")
    page.get_by_role("button", name="Send comment").click()
    page.locator("textarea[name=comment]", has_text="Clear and short.").wait_for()
    message = Message.objects.order_by("-id").first()
    assert (message.feedback, message.feedback_comment) == (1, "Clear and short.")

    # Rename, then delete with confirmation.
    page.locator("summary", has_text="Rename").click()
    page.get_by_label("Title").fill("Rose pruning")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Rose pruning").wait_for()
    page.locator("summary", has_text="Rename").click()
    page.get_by_role("link", name="Delete conversation…").click()
    page.get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted “Rose pruning”.").wait_for()
    assert not Conversation.objects.exists()


def test_stop_keeps_the_partial_answer_and_offers_a_retry(page, live_server, kb, openai_stub):
    make_user("alice")
    openai_stub.reply = " ".join(f"word{n}" for n in range(60))
    openai_stub.token_delay = 0.2
    log_in(page, live_server, "alice")
    page.get_by_role("link", name="ragchat").click()
    ask(page, "When should I prune my roses?")
    expect(page.locator(".live")).to_contain_text("word2")
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Stopped. What arrived so far is kept.").wait_for()

    # The server notices the closed connection at its next write and records what was sent.
    page.get_by_text("The answer is incomplete").wait_for(timeout=15_000)
    message = Message.objects.get()
    assert message.status == MessageStatus.FAILED and message.answer.startswith("word0 word1 word2")
    assert "word59" not in message.answer
    assert page.get_by_role("button", name="Retry").count() == 1


def test_html_in_questions_and_documents_is_shown_as_text(page, live_server, kb):
    make_user("alice")
    log_in(page, live_server, "alice")
    ask(page, "<script>window.pwned = 1</script> Is there a tag in a document about kettles?")
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    page.locator("article.message").first.wait_for()
    assert page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in page.locator(".question p").first.text_content()
    source_link = page.locator(".sources li a", has_text="Tricks")
    page.locator("summary", has_text="Sources").click()
    source_link.click()
    assert "<script>alert('doc')</script>" in page.locator(".cited").text_content()
    assert page.evaluate("window.pwned === undefined")


def test_a_second_user_cannot_open_the_first_users_conversation(page, live_server, kb):
    make_user("alice")
    make_user("bob")
    log_in(page, live_server, "alice")
    ask(page, "How often do I oil the chain?")
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    conversation_url = page.url.split("#")[0]
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "bob")
    response = page.goto(conversation_url)
    assert response.status == 404
    page.goto(live_server.url + reverse("conversations:list"))
    assert "oil the chain" not in page.content()


def test_without_javascript_the_chat_still_works(browser, live_server, kb):
    make_user("alice")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "alice")
    page.get_by_label("Question").fill("How often do I oil the chain?")
    page.get_by_role("button", name="Ask").click()
    page.wait_for_url(re.compile(r"/conversations/\d+/#message-\d+"))
    assert "300 kilometres" in page.locator("article.message").text_content()
    context.close()


def test_staff_use_the_admin_insight_search_and_export(page, live_server, kb):
    alice = make_user("alice")
    make_user("staff", is_staff=True, is_superuser=True)
    conversation = services.conversation_create(owner=alice, chat_type="answer")
    answer_question(conversation=conversation, question="How often do I oil the chain?", chat_type="answer")
    page.goto(live_server.url + reverse("admin:login"))
    page.get_by_label("Username").fill("staff")
    page.get_by_label("Password").fill("pw-staff")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + reverse("admin:conversations_message_changelist"))
    page.get_by_role("link", name="Insight").click()
    page.get_by_text("Questions per day").first.wait_for()
    assert "Questions1" in page.locator(".insight-cards").inner_text().replace("\n", "")

    page.goto(live_server.url + reverse("admin:conversations_message_changelist"))
    page.locator("#searchbar").fill("chain")
    page.locator("#searchbar").press("Enter")
    page.get_by_role("link", name="How often do I oil the chain?").wait_for()
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option("export_jsonl")
    with page.expect_download() as download:
        page.get_by_role("button", name="Go").click()
    exported = Path(download.value.path()).read_text()
    assert '"question": "How often do I oil the chain?"' in exported


def test_a_refused_question_shows_the_reason_in_place_and_keeps_the_text(page, live_server, kb, settings):
    # An hour's window: the default minute's could end between the two questions (a test failed so).
    settings.ASK_RATE_LIMIT, settings.ASK_RATE_WINDOW_SECONDS = 1, 3600
    make_user("alice")
    log_in(page, live_server, "alice")
    ask(page, "How do I descale the kettle?")
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    expect(page.locator(".answer-text").first).to_contain_text("vinegar")

    ask(page, "And the roses?")
    expect(page.get_by_role("alert")).to_contain_text("You have asked 1 questions")
    expect(page.get_by_label("Question")).to_have_value("And the roses?")
    assert Message.objects.count() == 1


@pytest.fixture
def home(transactional_db, docs_dir):
    """The test knowledge base in an organisation-wide collection titled "Home and garden"."""
    collection_get_or_create(name="home", title="Home and garden")
    assert not documents_import(paths=[docs_dir], collection="home").failed


def test_wide_screens_keep_the_conversations_beside_the_chat_and_phones_one_column(
    page, live_server, home, openai_stub
):
    alice = make_user("alice")
    for title in ["Tomatoes in pots", "Bicycle chain care", "Descaling the kettle"]:
        services.conversation_create(owner=alice, chat_type=ChatType.ANSWER, title=title)
    services.conversation_create(owner=make_user("bob"), chat_type=ChatType.ANSWER, title="Bob's secret plans")
    openai_stub.reply = (
        "Prune roses in **late winter**, just above an outward-facing bud [1]. Remove dead wood first [1]."
    )
    page.set_viewport_size(WIDE)
    log_in(page, live_server, "alice")

    # The start page: the whole list of conversations beside the question form.
    form, conversations = page.locator(".chat-main"), page.locator("#conversations")
    assert bounds(conversations)["x"] + bounds(conversations)["width"] <= bounds(form)["x"]
    page.get_by_label("Home and garden").check()
    ask(page, "When should I prune my roses?")
    page.wait_for_url(re.compile(r"/conversations/\d+/"))
    expect(page.locator(".answer-text").first).to_contain_text("late winter")
    page.locator("summary", has_text="Sources").click()

    # The conversation: the side list beside it, newest first, this one marked; what it searches in view.
    side, chat = page.locator("nav.side-list"), page.locator(".chat-main")
    expect(side.locator("li")).to_have_text(
        ["When should I prune my roses?", "Descaling the kettle", "Bicycle chain care", "Tomatoes in pots"]
    )
    expect(side.locator('a[aria-current="page"]')).to_have_text("When should I prune my roses?")
    expect(page.locator(".searched")).to_contain_text("Searches: Home and garden")
    side_box, chat_box = bounds(side), bounds(chat)
    assert side_box["x"] + side_box["width"] <= chat_box["x"]  # beside it, on its left
    assert side_box["y"] < chat_box["y"] + chat_box["height"] and chat_box["y"] < side_box["y"] + side_box["height"]
    assert page.get_by_role("link", name="← All conversations").is_hidden()  # the side list has it
    screenshot(page, "chat")

    # A phone: one column, the side list after the chat, nothing wider than the screen.
    page.set_viewport_size(PHONE)
    side_box, chat_box = bounds(side), bounds(chat)
    assert side_box["y"] >= chat_box["y"] + chat_box["height"]
    assert abs(side_box["x"] - chat_box["x"]) < 1 and side_box["x"] + side_box["width"] <= PHONE["width"]
    expect(page.get_by_role("link", name="← All conversations")).to_be_visible()
    side.get_by_role("link", name="Descaling the kettle").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Descaling the kettle")
    expect(page.locator(".searched")).to_contain_text("Searches: all you can read")
    page.get_by_role("link", name="← All conversations").click()
    form_box, conversations_box = bounds(page.locator(".chat-main")), bounds(page.locator("#conversations"))
    assert conversations_box["y"] >= form_box["y"] + form_box["height"]
    assert "Bob's secret plans" not in page.content()
