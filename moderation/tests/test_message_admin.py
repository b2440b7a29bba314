import pytest
from django.urls import reverse

from conversations.models import Message

CHANGELIST = reverse("admin:conversations_message_changelist")


@pytest.mark.parametrize(
    ("query", "shown", "left_out"),
    [
        ({"q": "prune"}, "When to prune roses?", "Kettle limescale?"),  # question text
        ({"q": "winter"}, "When to prune roses?", "Kettle limescale?"),  # answer text
        ({"chat_type__exact": "summarize"}, "Kettle limescale?", "When to prune roses?"),
        ({"has_error": "yes"}, "Kettle limescale?", "When to prune roses?"),
        ({"has_error": "no"}, "When to prune roses?", "Kettle limescale?"),
        ({"status__exact": "failed"}, "Kettle limescale?", "When to prune roses?"),
    ],
)
def test_messages_can_be_searched_and_filtered(staff_client, answered_and_failed, query, shown, left_out):
    html = staff_client.get(CHANGELIST, query).content.decode()
    assert shown in html and left_out not in html


@pytest.mark.parametrize(
    ("query", "shown", "left_out"),
    [
        ({"feedback": "down"}, "When to prune roses?", "How do I descale"),
        ({"feedback": "none"}, "How do I descale", "When to prune roses?"),
        ({"model_name": "openai:gpt-test"}, "How do I descale", "When to prune roses?"),
        ({"q": "bob"}, "How do I descale", "When to prune roses?"),  # by user
    ],
)
def test_messages_can_be_filtered_by_feedback_model_and_user(staff_client, exchanges, query, shown, left_out):
    html = staff_client.get(CHANGELIST, query).content.decode()
    assert shown in html and left_out not in html


@pytest.mark.parametrize("field", ["flagged", "hidden"])
def test_messages_can_be_filtered_by_moderation_flags(staff_client, exchanges, field):
    roses, _ = exchanges
    Message.objects.filter(pk=roses.pk).update(**{field: True})
    with_flag = staff_client.get(CHANGELIST, {f"{field}__exact": "1"}).content.decode()
    assert "When to prune roses?" in with_flag and "How do I descale" not in with_flag
    without = staff_client.get(CHANGELIST, {f"{field}__exact": "0"}).content.decode()
    assert "How do I descale" in without and "When to prune roses?" not in without


def test_date_filter_is_offered(staff_client, answered_and_failed):
    html = staff_client.get(CHANGELIST).content.decode()
    assert "created_at__gte" in html


def test_the_message_page_shows_passages_linked_to_documents_and_the_search_query(staff_client, exchanges):
    roses, _ = exchanges
    html = staff_client.get(reverse("admin:conversations_message_change", args=[roses.pk])).content.decode()
    passage = roses.passages()[0]
    document_url = reverse("admin:documents_document_change", args=[passage.document_id])
    assert f'<a href="{document_url}">garden/roses.md</a>' in html
    assert "Search query" in html and "Passages given to the model" in html


def test_the_message_page_shows_its_ranked_sources_read_only(staff_client, answered_and_failed):
    ok, _ = answered_and_failed
    html = staff_client.get(reverse("admin:conversations_message_change", args=[ok.pk])).content.decode()
    ranks = list(ok.sources.order_by("rank").values_list("rank", flat=True))
    assert ranks and ranks == list(range(1, len(ranks) + 1))
    assert html.count('<td class="field-rank">') == len(ranks)
    assert 'name="sources-0-rank"' not in html  # read-only: no editable field


def test_messages_are_not_added_in_the_admin(staff_client, db):
    assert staff_client.get(reverse("admin:conversations_message_add")).status_code == 403


def test_non_staff_users_cannot_open_the_message_admin(alice_client, answered_and_failed):
    response = alice_client.get(CHANGELIST)
    assert response.status_code == 302 and "/admin/login/" in response.url
    assert Message.objects.count() == 2
