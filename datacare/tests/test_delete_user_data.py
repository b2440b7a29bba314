import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from conftest import run_command as run
from conversations.models import Conversation, Message, MessageSource
from datacare import services
from documents.collections import role_of
from documents.jobs import upload_job_start
from documents.models import Chunk, Collection, Document, ImportFile, ImportJob, Role


def snapshot(user) -> dict:
    data = services.user_data_export(user=user)
    del data["exported_at"]
    return json.loads(services.user_data_to_json(data))


def test_delete_user_data_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("delete_user_data", "nobody")


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


def test_delete_user_data_deletes_my_documents_and_keeps_collections_shared_with_others(chats, alices_collections):
    mine, team, bobs = alices_collections.mine, alices_collections.team, alices_collections.bobs
    mine_chunks = list(Chunk.objects.filter(collection=mine).values_list("pk", flat=True))
    assert len(mine_chunks) >= 2

    out, _ = run("delete_user_data", "alice", "--dry-run")
    assert ", 2 personal document(s), 1 account(s)" in out and Collection.objects.filter(pk=mine.pk).exists()

    out, _ = run("delete_user_data", "alice")
    assert ", 2 personal document(s), 1 account(s)" in out
    assert not Collection.objects.filter(pk=mine.pk).exists()
    assert not Document.objects.filter(collection=mine.name).exists() and not Chunk.objects.filter(pk__in=mine_chunks)
    team.refresh_from_db()
    assert team.owner is None and team.documents.count() == 1 and role_of(chats.bob, team) == Role.EDITOR
    assert bobs.documents.count() == 1 and Collection.objects.personal_of(chats.bob).get() == bobs


def test_delete_user_data_deletes_the_originals_of_my_documents_after_the_commit(
    chats, alices_collections, django_capture_on_commit_callbacks
):
    mine = alices_collections.mine
    originals = list(Document.objects.filter(collection=mine).values_list("original", flat=True))
    bobs_original = Document.objects.get(collection=alices_collections.bobs).original.name
    assert len(originals) == 2 and all(default_storage.exists(name) for name in originals)
    with django_capture_on_commit_callbacks(execute=True):
        run("delete_user_data", "alice")
    assert not any(default_storage.exists(name) for name in originals)
    assert default_storage.exists(bobs_original)  # his own, and the team's copy of the same bytes


def test_delete_user_data_keeping_the_account_still_deletes_my_documents(chats, alices_collections):
    out, _ = run("delete_user_data", "alice", "--keep-account")
    assert ", 2 personal document(s)" in out
    assert not Collection.objects.personal_of(chats.alice).exists()
    assert Collection.objects.get(name="team").owner == chats.alice


def test_delete_user_data_deletes_the_jobs_of_my_documents_and_the_bytes_they_kept(
    chats, alices_collections, django_capture_on_commit_callbacks
):
    mine, team = alices_collections.mine, alices_collections.team
    kept = upload_job_start(collection=mine, user=chats.alice, files=[("diary-2.md", ContentFile(b"# Secret"))])
    upload_job_start(collection=team, user=chats.alice, files=[("team.md", ContentFile(b"# Team"))])
    waiting = ImportFile.objects.get(job=kept).upload

    with django_capture_on_commit_callbacks(execute=True):
        run("delete_user_data", "alice")

    assert not ImportJob.objects.filter(pk=kept.pk).exists() and not default_storage.exists(waiting)
    assert list(ImportJob.objects.values_list("collection", flat=True)) == ["team"]  # a shared collection's record
