import csv
import io
import json

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from conftest import answer_question, make_user
from conversations import services
from conversations.models import ChatType, Feedback, Message, MessageStatus


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user("moderator", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def exchanges(knowledge_base, alice, bob):
    roses = answer_question(
        conversation=services.conversation_create(owner=alice, chat_type=ChatType.ANSWER),
        question="When to prune roses?",
        chat_type="answer",
    )
    services.message_set_feedback(message=roses, feedback=Feedback.DOWN, comment="Too vague")
    kettle = answer_question(
        conversation=services.conversation_create(owner=bob, chat_type=ChatType.ANSWER),
        question="How do I descale the kettle?",
        chat_type="summarize",
    )
    kettle.model_name = "openai:gpt-test"
    kettle.prompt_tokens, kettle.completion_tokens = 100, 20
    kettle.save()
    return roses, kettle


def run_action(client, action: str, messages: list[Message]):
    return client.post(
        reverse("admin:conversations_message_changelist"),
        {"action": action, "_selected_action": [m.pk for m in messages]},
    )


@pytest.mark.parametrize(
    ("action", "field", "value", "log"),
    [("flag", "flagged", True, "Flagged"), ("hide", "hidden", True, "Hidden from the owner")],
)
def test_moderation_actions_change_the_message_and_are_logged(staff_client, exchanges, action, field, value, log):
    roses, kettle = exchanges
    run_action(staff_client, action, [roses])
    roses.refresh_from_db()
    kettle.refresh_from_db()
    assert getattr(roses, field) is value and getattr(kettle, field) is not value
    entry = LogEntry.objects.get(object_id=str(roses.pk))
    assert entry.get_change_message() == log and entry.user.username == "moderator"
    history = staff_client.get(reverse("admin:conversations_message_history", args=[roses.pk])).content.decode()
    assert log in history


def test_unflag_and_unhide_undo_them(staff_client, exchanges):
    roses, _ = exchanges
    run_action(staff_client, "flag", [roses])
    run_action(staff_client, "hide", [roses])
    run_action(staff_client, "unflag", [roses])
    run_action(staff_client, "unhide", [roses])
    roses.refresh_from_db()
    assert not roses.flagged and not roses.hidden
    assert LogEntry.objects.filter(object_id=str(roses.pk)).count() == 4


def test_a_hidden_message_no_longer_shows_to_its_owner(staff_client, exchanges, client):
    roses, _ = exchanges
    run_action(staff_client, "hide", [roses])
    client.force_login(roses.conversation.owner)
    page = client.get(reverse("conversations:detail", args=[roses.conversation_id])).content.decode()
    assert f'id="message-{roses.pk}"' not in page and "Prune roses in late winter" not in page
    source = reverse("conversations:passage", args=[roses.conversation_id, roses.pk, 1])
    assert client.get(source).status_code == 404


def test_export_selected_as_json_lines(staff_client, exchanges):
    roses, kettle = exchanges
    response = run_action(staff_client, "export_jsonl", [roses, kettle])
    assert response["Content-Disposition"].endswith('-messages.jsonl"')
    rows = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [row["question"] for row in rows] == ["When to prune roses?", "How do I descale the kettle?"]
    assert rows[0]["owner"] == "alice" and rows[0]["feedback"] == -1
    assert rows[0]["sources"][0]["path"] == "garden/roses.md"
    assert LogEntry.objects.filter(change_message="Exported").count() == 2


def test_export_selected_as_csv(staff_client, exchanges):
    roses, _ = exchanges
    response = run_action(staff_client, "export_csv", [roses])
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["question"] == "When to prune roses?" and "garden/roses.md" in rows[0]["sources"]


def test_delete_selected_removes_messages_and_logs_it(staff_client, exchanges):
    roses, kettle = exchanges
    staff_client.post(
        reverse("admin:conversations_message_changelist"),
        {"action": "delete_selected", "_selected_action": [roses.pk], "post": "yes"},
    )
    assert list(Message.objects.all()) == [kettle]
    assert LogEntry.objects.filter(object_id=str(roses.pk), action_flag=3).exists()


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"feedback": "down"}, "When to prune roses?", "How do I descale"),
        ({"feedback": "none"}, "How do I descale", "When to prune roses?"),
        ({"model_name": "openai:gpt-test"}, "How do I descale", "When to prune roses?"),
        ({"q": "bob"}, "How do I descale", "When to prune roses?"),  # by user
        ({"flagged__exact": "0"}, "How do I descale", "nothing hidden here"),
    ],
)
def test_moderation_filters(staff_client, exchanges, query, shown, hidden):
    html = staff_client.get(reverse("admin:conversations_message_changelist"), query).content.decode()
    assert shown in html and hidden not in html


def test_the_message_page_shows_passages_linked_to_documents_and_the_search_query(staff_client, exchanges):
    roses, _ = exchanges
    html = staff_client.get(reverse("admin:conversations_message_change", args=[roses.pk])).content.decode()
    document_url = reverse("admin:documents_document_change", args=[roses.context_used[0]["document_id"]])
    assert f'<a href="{document_url}">garden/roses.md</a>' in html
    assert "Search query" in html and "Passages given to the model" in html


def test_the_insight_page_reports_the_period(staff_client, exchanges, settings):
    roses, kettle = exchanges
    failed = services.message_create(conversation=roses.conversation, question="Broken?", chat_type="answer")
    failed.status, failed.error, failed.latency_ms = MessageStatus.FAILED, "Timeout", 5000
    failed.save()
    settings.ANSWER_MIN_SIMILARITY = 1.01  # nothing can be relevant enough
    nothing = answer_question(conversation=roses.conversation, question="zzz qqq", chat_type="answer")
    assert nothing.context_used == []

    html = staff_client.get(reverse("admin:conversations_insight")).content.decode()
    assert "Questions<strong>4</strong>" in html
    assert "Error rate<strong>25 %</strong>" in html
    assert "Thumbs up / down<strong>0 / 1</strong>" in html
    assert "<td>openai:gpt-test</td><td>1</td><td>100</td><td>20</td>" in html
    assert "zzz qqq" in html and "Too vague" in html
    assert "Latency p95<strong>5000 ms</strong>" in html


def test_the_insight_page_takes_a_period(staff_client, exchanges):
    html = staff_client.get(reverse("admin:conversations_insight"), {"start": "2001-01-01", "end": "2001-01-31"})
    assert "Questions<strong>0</strong>" in html.content.decode()


def test_non_staff_users_get_no_admin_pages(alice_client, exchanges):
    for url in [reverse("admin:conversations_insight"), reverse("admin:conversations_message_changelist")]:
        response = alice_client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
