import pytest
from django.urls import reverse

from conftest import answer_question, make_staff
from conversations import services
from conversations.models import MessageStatus

INSIGHT = reverse("insight:index")


@pytest.fixture
def four_exchanges(exchanges, settings):
    """Four questions today: rated down, answered by a model, failed after 5 s, and one that found nothing."""
    roses, kettle = exchanges
    failed = services.message_create(conversation=roses.conversation, question="Broken?", chat_type="answer")
    failed.status, failed.error, failed.latency_ms = MessageStatus.FAILED, "Timeout", 5000
    failed.save()
    settings.ANSWER_MIN_SIMILARITY = 1.01  # nothing can be relevant enough
    nothing = answer_question(conversation=roses.conversation, question="zzz qqq")
    assert nothing.context_used == []
    return roses, kettle, failed, nothing


def test_the_insight_page_reports_the_period(staff_client, four_exchanges):
    roses, _, _, nothing = four_exchanges
    html = staff_client.get(INSIGHT).content.decode()
    assert "Questions<strong>4</strong>" in html
    assert "Error rate<strong>25 %</strong>" in html
    assert "Thumbs up / down<strong>0 / 1</strong>" in html
    assert "<td>openai:gpt-test</td><td>1</td><td>100</td><td>20</td>" in html
    assert "Latency p95<strong>5000 ms</strong>" in html
    # The knowledge gaps link to the messages in the admin.
    for message in (nothing, roses):
        assert reverse("admin:conversations_message_change", args=[message.pk]) in html
    assert "zzz qqq" in html and "Too vague" in html


def test_the_insight_page_takes_a_period(staff_client, four_exchanges):
    html = staff_client.get(INSIGHT, {"start": "2001-01-01", "end": "2001-01-31"}).content.decode()
    assert "Questions<strong>0</strong>" in html and "From Jan. 1, 2001 to Jan. 31, 2001." in html


def test_a_period_that_ends_before_it_starts_shows_the_last_30_days(staff_client, four_exchanges):
    html = staff_client.get(INSIGHT, {"start": "2001-01-31", "end": "2001-01-01"}).content.decode()
    assert "Questions<strong>4</strong>" in html


def test_the_message_list_links_to_the_insight_page(staff_client, db):
    html = staff_client.get(reverse("admin:conversations_message_changelist")).content.decode()
    assert f'<a href="{INSIGHT}">Insight</a>' in html


def test_non_staff_users_are_sent_to_the_admin_login(alice_client):
    response = alice_client.get(INSIGHT)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


def test_staff_need_the_insight_permission(client, db):
    client.force_login(make_staff("viewer", "conversations.view_message"))
    assert client.get(INSIGHT).status_code == 403
    client.force_login(make_staff("analyst", "conversations.view_insight"))
    assert client.get(INSIGHT).status_code == 200
