import pytest
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.tokens import token_create, token_user
from conftest import run_command


def test_create_prints_the_token_on_its_last_line(alice):
    out, _ = run_command("api_token", "create", "alice", "--name", "ci", "--expires", "7")
    raw = out.strip().splitlines()[-1]
    assert token_user(raw) == alice
    token = ApiToken.objects.get(name="ci")
    assert token.expires_at is not None and "until" in out


@pytest.mark.parametrize(
    "args, error",
    [
        (["create", "nobody", "--name", "ci"], "No user named 'nobody'"),
        (["create", "alice", "--name", "taken"], "already has a token called 'taken'"),
        (["create", "alice", "--name", "ci", "--expires", "0"], "at least 1"),
        (["revoke", "--id", "999999"], "No live token id 999999"),
        (["revoke", "alice"], "Say which token"),
    ],
)
def test_mistakes_are_explained_and_change_nothing(alice, args, error):
    token_create(user=alice, name="taken")
    with pytest.raises(CommandError, match=error):
        call_command("api_token", *args)
    assert ApiToken.objects.count() == 1 and ApiToken.objects.get().revoked_at is None


def test_revoke_by_id(alice):
    token, raw = token_create(user=alice, name="ci")
    out, _ = run_command("api_token", "revoke", "--id", str(token.pk))
    assert "Revoked token 'ci'" in out and token_user(raw) is None


def test_revoke_by_user_and_name_leaves_other_tokens(alice, bob):
    _, alices = token_create(user=alice, name="ci")
    _, bobs = token_create(user=bob, name="ci")
    run_command("api_token", "revoke", "alice", "--name", "ci")
    assert token_user(alices) is None and token_user(bobs) == bob


def test_help_explains_both_actions(capsys):
    with pytest.raises(SystemExit):
        call_command("api_token", "--help")
    assert "prints the new token on its last line" in capsys.readouterr().out
