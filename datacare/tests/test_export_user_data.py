import json

import pytest
from django.core.management import CommandError, call_command

from conftest import run_command as run
from documents.models import Collection, Document


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


def test_export_user_data_lists_my_documents_and_the_collections_of_the_user(chats, alices_collections):
    out, err = run("export_user_data", "alice")
    data = json.loads(out)
    mine = data["personal_collection"]
    assert (mine["name"], mine["title"], mine["personal"]) == (alices_collections.mine.name, "My documents", True)
    documents = [(document["path"], document["title"]) for document in mine["documents"]]
    assert documents == [("diary.md", "Diary"), ("plans/2027.txt", "Plans")]
    assert mine["documents"][0]["metadata"]["file_type"] == "md" and "embedding" not in mine["documents"][0]
    diary = Document.objects.get(collection=alices_collections.mine, path="diary.md")
    assert (mine["documents"][0]["original"], mine["documents"][0]["original_size"]) == (
        diary.original.name,
        diary.original_size,
    )
    assert "Bob's notes" not in out and "bob.md" not in out  # his own collection, and the team's document
    assert [(c["name"], c["visibility"]) for c in data["owned_collections"]] == [("team", "private")]
    assert data["memberships"] == []
    assert ", 2 personal document(s)" in err

    bobs = json.loads(run("export_user_data", "bob")[0])
    assert [(m["collection"], m["role"]) for m in bobs["memberships"]] == [("team", "editor")]
    assert bobs["owned_collections"] == []
    assert [document["path"] for document in bobs["personal_collection"]["documents"]] == ["bob.md"]


def test_export_user_data_without_my_documents_says_so_and_makes_none(chats):
    data = json.loads(run("export_user_data", "alice")[0])
    assert data["personal_collection"] is None and data["owned_collections"] == []
    assert not Collection.objects.filter(personal=True).exists()
