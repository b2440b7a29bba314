import json

import pytest
from django.core.management import CommandError, call_command

from conftest import run_command as run


def test_export_user_data_holds_all_of_the_users_data_and_no_password(chats):
    out, err = run("export_user_data", "alice")
    data = json.loads(out)
    assert data["account"]["username"] == "alice" and data["account"]["email"] == "alice@example.org"
    assert "password" not in out and chats.alice.password not in out
    messages = {m["id"]: m for c in data["conversations"] for m in c["messages"]}
    assert set(messages) == {chats.up.pk, chats.hidden.pk, chats.pending.pk, chats.down.pk}  # not bob's
    assert messages[chats.hidden.pk]["hidden"] is True and messages[chats.hidden.pk]["flagged"] is True
    assert (messages[chats.up.pk]["feedback"], messages[chats.up.pk]["feedback_comment"]) == (1, "Spot on")
    assert messages[chats.up.pk]["context_used"][0]["path"] == "garden/roses.md"
    assert len(messages[chats.up.pk]["sources"]) == chats.up.sources.count()
    assert messages[chats.pending.pk]["status"] == "pending"
    assert "Exported 2 conversation(s), 4 message(s)" in err


def test_export_user_data_writes_a_file_and_its_dry_run_only_counts(chats, tmp_path):
    out, _ = run("export_user_data", "alice", "--dry-run")
    assert out.startswith("Dry run: would export 2 conversation(s), 4 message(s)") and "{" not in out

    path = tmp_path / "alice.json"
    out, err = run("export_user_data", "alice", "--output", str(path))
    assert out == "" and str(path) in err
    assert json.loads(path.read_text(encoding="utf-8"))["account"]["username"] == "alice"


def test_export_user_data_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("export_user_data", "nobody")
