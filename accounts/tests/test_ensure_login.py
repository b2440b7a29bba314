from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command


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
