import io
import json
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from conftest import answer_question
from conversations import datacare, services
from evaluation.evalset import load_questions
from conversations.models import ChatType, Conversation, Feedback, Message, MessageSource

DATA_CARE_COMMANDS = ["export_user_data", "delete_user_data", "purge_conversations", "export_dataset"]


def run(name: str, *args) -> tuple[str, str]:
    """Run a command; return what it wrote to stdout and to stderr."""
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def ask(conversation: Conversation, question: str) -> Message:
    return answer_question(conversation=conversation, question=question, chat_type=ChatType.ANSWER)


@pytest.fixture
def chats(knowledge_base, alice, bob):
    """Alice: two conversations, three answers (one rated up, one down, one hidden), one pending question.

    Bob: one conversation with one answer.
    """
    alice.email = "alice@example.org"
    alice.save()
    roses = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    up = services.message_set_feedback(
        message=ask(roses, "When do I prune roses?"), feedback=Feedback.UP, comment="Spot on"
    )
    hidden = ask(roses, "And the tomatoes?")
    Message.objects.filter(pk=hidden.pk).update(hidden=True, flagged=True)
    pending = services.message_create(conversation=roses, question="Unanswered?", chat_type=ChatType.ANSWER)
    kettle = services.conversation_create(owner=alice, chat_type=ChatType.ANSWER)
    down = services.message_set_feedback(message=ask(kettle, "How do I descale the kettle?"), feedback=Feedback.DOWN)
    bikes = services.conversation_create(owner=bob, chat_type=ChatType.ANSWER)
    bobs = ask(bikes, "How often should I oil my bicycle chain?")
    return SimpleNamespace(up=up, hidden=hidden, pending=pending, down=down, bobs=bobs, alice=alice, bob=bob)


def snapshot(user) -> dict:
    data = datacare.user_data_export(user=user)
    del data["exported_at"]
    return json.loads(datacare.user_data_to_json(data))


@pytest.mark.parametrize("name", DATA_CARE_COMMANDS)
def test_every_data_care_command_explains_itself_with_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        call_command(name, "--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage:" in out and "--dry-run" in out


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


@pytest.mark.parametrize("name", ["export_user_data", "delete_user_data"])
def test_user_commands_refuse_an_unknown_user(name, db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command(name, "nobody")


def test_delete_user_data_leaves_nothing_of_the_user_and_keeps_other_users_intact(chats):
    bob_before = snapshot(chats.bob)
    alices_messages = [chats.up.pk, chats.hidden.pk, chats.pending.pk, chats.down.pk]

    out, _ = run("delete_user_data", "alice")

    assert "Deleted 2 conversation(s), 4 message(s)" in out and "1 account(s)" in out
    assert not get_user_model().objects.filter(username="alice").exists()
    assert not Conversation.objects.filter(owner_id=chats.alice.pk).exists()
    assert not Message.objects.filter(pk__in=alices_messages).exists()
    assert not MessageSource.objects.filter(message_id__in=alices_messages).exists()
    assert snapshot(chats.bob) == bob_before
    assert Message.objects.count() == 1 and MessageSource.objects.count() == chats.bobs.sources.count()


def test_delete_user_data_dry_run_counts_and_changes_nothing(chats):
    before = snapshot(chats.alice)
    sources = MessageSource.objects.filter(message__conversation__owner=chats.alice).count()
    out, _ = run("delete_user_data", "alice", "--dry-run")
    expected = f"Dry run: would delete 2 conversation(s), 4 message(s), {sources} message source(s), 1 account(s)"
    assert out.startswith(expected) and "nothing was changed" in out
    assert snapshot(chats.alice) == before


def test_delete_user_data_can_keep_the_account(chats):
    out, _ = run("delete_user_data", "alice", "--keep-account")
    assert "account" not in out
    assert get_user_model().objects.filter(username="alice").exists()
    assert snapshot(chats.alice)["conversations"] == []
    assert Message.objects.filter(pk=chats.bobs.pk).exists()


def age(message: Message, days: int) -> None:
    Conversation.objects.filter(pk=message.conversation_id).update(updated_at=timezone.now() - timedelta(days=days))


def test_purge_deletes_conversations_of_every_user_not_updated_for_days(chats):
    age(chats.up, 40)  # alice's roses conversation
    age(chats.bobs, 31)
    age(chats.down, 29)

    out, _ = run("purge_conversations", "--older-than", "30", "--dry-run")
    assert out.startswith("Dry run: would delete 2 conversation(s), 4 message(s)")
    assert Conversation.objects.count() == 3

    out, _ = run("purge_conversations", "--older-than", "30")
    assert out.startswith("Deleted 2 conversation(s), 4 message(s)")
    assert list(Message.objects.all()) == [chats.down]


def test_purge_uses_the_retention_setting_and_refuses_when_it_keeps_forever(chats, settings):
    age(chats.bobs, 8)
    settings.CONVERSATION_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="CONVERSATION_RETENTION_DAYS is 0"):
        call_command("purge_conversations")
    assert Conversation.objects.count() == 3

    settings.CONVERSATION_RETENTION_DAYS = 7
    out, _ = run("purge_conversations")
    assert out.startswith("Deleted 1 conversation(s), 1 message(s)")
    assert not Conversation.objects.filter(owner=chats.bob).exists()


@pytest.mark.parametrize("days", ["0", "-5"])
def test_purge_refuses_fewer_than_one_day(days, db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("purge_conversations", "--older-than", days)


def dataset(*args) -> tuple[list[dict], str, str]:
    out, err = run("export_dataset", *args)
    return [json.loads(line) for line in out.splitlines()], out, err


def test_export_dataset_has_answered_visible_exchanges_with_stable_pseudonymous_ids(chats):
    records, out, err = dataset()
    by_question = {r["question"]: r for r in records}
    assert set(by_question) == {"When do I prune roses?", "How do I descale the kettle?", chats.bobs.question}
    roses = by_question["When do I prune roses?"]
    assert set(roses) == {
        "id", "question", "search_query", "answer", "chat_type", "model", "created_at",
        "feedback", "feedback_comment", "sources", "expected_source",
    }  # fmt: skip
    assert (roses["feedback"], roses["feedback_comment"], roses["expected_source"]) == (1, "Spot on", None)
    assert roses["created_at"] == timezone.localdate(chats.up.created_at).isoformat()
    assert set(roses["sources"][0]) == {"n", "path", "title", "heading", "collection", "score", "similarity"}
    assert roses["sources"][0]["path"] == "garden/roses.md"
    assert by_question["How do I descale the kettle?"]["feedback"] == -1
    assert "Exported 3 answered message(s) (1 rated up, 1 rated down)" in err

    assert all(re.fullmatch(r"[0-9a-f]{16}", r["id"]) for r in records)
    assert [r["id"] for r in dataset()[0]] == [r["id"] for r in records]  # stable between runs
    for identity in ("alice", "bob", "alice@example.org"):
        assert identity not in out
    pks = {chats.up.pk, chats.up.conversation_id, chats.alice.pk, chats.bob.pk, chats.bobs.pk}
    for record in records:
        assert record["id"] not in {str(pk) for pk in pks}
        assert not {value for key, value in record.items() if key != "sources"} & pks


def test_export_dataset_filters_by_feedback_and_date_and_writes_a_file(chats, tmp_path):
    records, _, _ = dataset("--only-feedback")
    assert sorted(r["feedback"] for r in records) == [-1, 1]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert dataset("--since", tomorrow)[0] == []
    assert len(dataset("--since", timezone.localdate().isoformat())[0]) == 3
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_dataset", "--since", "last week")

    out, _ = run("export_dataset", "--dry-run")
    assert out.startswith("Dry run: would export 3 answered message(s)") and "{" not in out

    path = tmp_path / "dataset.jsonl"
    out, err = run("export_dataset", "--output", str(path))
    assert out == "" and str(path) in err
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3


def test_exported_lines_feed_evaluate_once_expected_source_is_filled_in(chats, tmp_path):
    records, _, _ = dataset("--only-feedback")
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(r | {"expected_source": r["sources"][0]["path"]}) for r in records))
    questions = load_questions(path)
    assert {q.id for q in questions} == {r["id"] for r in records}
