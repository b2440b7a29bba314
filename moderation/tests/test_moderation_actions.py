import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.urls import reverse

from conftest import make_staff
from conversations.models import Message


def run_action(client, action: str, messages: list[Message]):
    return client.post(
        reverse("admin:conversations_message_changelist"),
        {"action": action, "_selected_action": [m.pk for m in messages]},
    )


@pytest.mark.parametrize(
    ("action", "field", "log"),
    [("flag", "flagged", "Flagged"), ("hide", "hidden", "Hidden from the owner")],
)
def test_moderation_actions_change_the_message_and_are_logged(staff_client, exchanges, action, field, log):
    roses, kettle = exchanges
    run_action(staff_client, action, [roses])
    roses.refresh_from_db()
    kettle.refresh_from_db()
    assert (getattr(roses, field), getattr(kettle, field)) == (True, False)
    entry = LogEntry.objects.get(object_id=str(roses.pk))
    assert (entry.get_change_message(), entry.user.username) == (log, "staff")
    history = staff_client.get(reverse("admin:conversations_message_history", args=[roses.pk])).content.decode()
    assert log in history


def test_unflag_and_unhide_undo_them(staff_client, exchanges):
    roses, _ = exchanges
    for action in ["flag", "hide", "unflag", "unhide"]:
        run_action(staff_client, action, [roses])
    roses.refresh_from_db()
    assert (roses.flagged, roses.hidden) == (False, False)
    logged = LogEntry.objects.filter(object_id=str(roses.pk)).order_by("pk")
    assert [entry.get_change_message() for entry in logged] == [
        "Flagged",
        "Hidden from the owner",
        "Unflagged",
        "Shown to the owner again",
    ]


def test_an_action_that_changes_nothing_logs_nothing(staff_client, exchanges):
    roses, _ = exchanges
    run_action(staff_client, "unflag", [roses])
    assert not LogEntry.objects.filter(object_id=str(roses.pk)).exists()


def test_a_hidden_message_no_longer_shows_to_its_owner(staff_client, exchanges, client):
    roses, _ = exchanges
    run_action(staff_client, "hide", [roses])
    client.force_login(roses.conversation.owner)
    page = client.get(reverse("conversations:detail", args=[roses.conversation_id])).content.decode()
    assert f'id="message-{roses.pk}"' not in page and "Prune roses in late winter" not in page
    source = reverse("conversations:passage", args=[roses.conversation_id, roses.pk, 1])
    assert client.get(source).status_code == 404


def test_delete_selected_removes_messages_and_logs_it(staff_client, exchanges):
    roses, kettle = exchanges
    staff_client.post(
        reverse("admin:conversations_message_changelist"),
        {"action": "delete_selected", "_selected_action": [roses.pk], "post": "yes"},
    )
    assert list(Message.objects.all()) == [kettle]
    assert LogEntry.objects.filter(object_id=str(roses.pk), action_flag=DELETION).exists()


@pytest.mark.parametrize("action", ["flag", "unflag", "hide", "unhide"])
def test_staff_who_may_only_view_messages_cannot_moderate_them(client, exchanges, action):
    roses, _ = exchanges
    Message.objects.filter(pk=roses.pk).update(flagged=action.startswith("un"), hidden=action.startswith("un"))
    client.force_login(make_staff("viewer", "conversations.view_message"))
    run_action(client, action, [roses])

    moderated = Message.objects.get(pk=roses.pk)
    assert (moderated.flagged, moderated.hidden) == (action.startswith("un"), action.startswith("un"))
    assert not LogEntry.objects.exists()
