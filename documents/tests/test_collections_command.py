"""The collections command: list, create, share, unshare and delete from the shell."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError

from conftest import make_user, run_command
from documents.collections import personal_collection
from documents.models import Collection, Document, Membership, Role, Visibility


@pytest.fixture
def handbook(knowledge_base):
    """The shared test knowledge base, whose collection is 'default'."""
    return Collection.objects.get(name="default")


def test_create_makes_a_private_collection_with_its_owner(db):
    alice = make_user("alice")
    out, _ = run_command("collections", "create", "finance", "--title", "Finance", "--owner", "alice")
    finance = Collection.objects.get(name="finance")
    assert (finance.title, finance.owner, finance.visibility) == ("Finance", alice, Visibility.PRIVATE)
    assert "Created finance (private)." in out


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["create", "My Finance"], "'My Finance' cannot name a collection"),
        (["create", "default"], "A collection named 'default' exists already."),
        (["create", "x", "--owner", "nobody"], "No user named 'nobody'."),
        (["share", "nowhere", "--user", "bob"], "No collection named 'nowhere'."),
        (["share", "default", "--group", "ghosts"], "No group named 'ghosts'."),
        (["unshare", "default", "--user", "bob"], "bob is not a member of default."),
    ],
)
def test_mistakes_are_refused_with_a_reason(handbook, args, error):
    make_user("bob")
    with pytest.raises(CommandError, match=error):
        run_command("collections", *args)


def test_share_change_and_unshare_a_user_and_a_group(handbook):
    make_user("bob")
    Group.objects.create(name="finance")
    run_command("collections", "share", "default", "--user", "bob")
    run_command("collections", "share", "default", "--user", "bob", "--role", "editor")  # a change of role
    run_command("collections", "share", "default", "--group", "finance", "--role", "manager")
    shares = {(m.user and m.user.username, m.group and m.group.name, m.role) for m in handbook.memberships.all()}
    assert shares == {("bob", None, Role.EDITOR), (None, "finance", Role.MANAGER)}

    out, _ = run_command("collections", "list")
    assert out.splitlines() == [
        "default\torganisation\towner nobody\t3 document(s)\tbob (editor), group finance (manager)"
    ]
    run_command("collections", "unshare", "default", "--user", "bob")
    assert list(Membership.objects.values_list("group__name", flat=True)) == ["finance"]


def test_delete_asks_for_the_name_and_takes_the_documents_with_it(handbook, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "not it")
    with pytest.raises(CommandError, match="Nothing deleted."):
        run_command("collections", "delete", "default")
    assert Document.objects.count() == 3

    out, _ = run_command("collections", "delete", "default", "--yes")
    assert "Deleted default and its 3 document(s)." in out
    assert not Collection.objects.filter(name="default").exists() and not Document.objects.exists()


def test_import_documents_makes_a_new_collection_private_for_its_owner(db, docs_dir):
    alice = make_user("alice")
    run_command("import_documents", str(docs_dir), "--collection", "alices", "--owner", "alice")
    alices = Collection.objects.get(name="alices")
    assert (alices.owner, alices.visibility, alices.documents.count()) == (alice, Visibility.PRIVATE, 3)
    with pytest.raises(CommandError, match="No user named 'nobody'."):
        run_command("import_documents", str(docs_dir), "--collection", "other", "--owner", "nobody")
    with pytest.raises(CommandError, match="'my docs' cannot name a collection"):
        run_command("import_documents", str(docs_dir), "--collection", "my docs")
    assert list(Collection.objects.values_list("name", flat=True)) == ["alices"]


def test_a_personal_collection_is_not_shared_from_the_shell(db):
    mine = personal_collection(make_user("alice"))
    make_user("bob")
    with pytest.raises(CommandError, match=f"{mine.name}: A personal collection"):
        run_command("collections", "share", mine.name, "--user", "bob")
    assert not Membership.objects.exists()
