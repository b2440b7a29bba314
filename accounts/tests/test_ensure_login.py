import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command


def test_creates_an_admin_with_a_random_password_when_no_user_exists(db, capsys):
    call_command("ensure_login")
    out = capsys.readouterr().out
    password = out.split("with password: ")[1].split()[0]
    admin = get_user_model().objects.get()
    assert admin.username == "admin" and admin.is_superuser and admin.check_password(password)
    validate_password(password, admin)  # 16 random characters: long enough for the 12-character minimum


def test_does_nothing_when_a_user_exists(alice, capsys):
    call_command("ensure_login")
    assert "Users exist already" in capsys.readouterr().out
    assert get_user_model().objects.count() == 1


def test_with_local_login_off_it_makes_no_password_account_and_says_what_to_do(db, capsys, settings):
    settings.LOCAL_LOGIN_ENABLED, settings.OIDC_PROVIDER_NAME = False, "Example SSO"
    call_command("ensure_login")
    assert "sign in with Example SSO, then make yourself staff with" in capsys.readouterr().out
    assert not get_user_model().objects.exists()


def test_staff_makes_a_user_staff_after_their_first_sign_in(alice, capsys):
    call_command("ensure_login", "--staff", "alice")
    alice.refresh_from_db()
    assert alice.is_staff and alice.is_superuser


def test_staff_of_nobody_is_an_error_that_says_why(db):
    with pytest.raises(CommandError, match="No user is named 'nobody'"):
        call_command("ensure_login", "--staff", "nobody")


def test_ensure_login_explains_itself_with_help(capsys):
    with pytest.raises(SystemExit):
        call_command("ensure_login", "--help")
    assert "--staff NAME" in capsys.readouterr().out
