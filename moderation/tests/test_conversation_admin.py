from django.urls import reverse


def test_the_conversation_page_shows_its_messages_inline_read_only(staff_client, answered_and_failed):
    ok, _ = answered_and_failed
    page = staff_client.get(reverse("admin:conversations_conversation_change", args=[ok.conversation_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "When to prune roses?" in html and "Kettle limescale?" in html
    assert 'name="messages-0-question"' not in html  # read-only: no editable field


def test_conversation_list_shows_message_counts(staff_client, answered_and_failed):
    html = staff_client.get(reverse("admin:conversations_conversation_changelist")).content.decode()
    assert "When to prune roses?" in html and 'class="field-message_count">2<' in html
