from django.contrib.auth import get_user_model
from django.urls import reverse


def test_login_page_logs_in(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 302 and response.url == reverse("conversations:list")


def test_signup_is_off_by_default(client, db, settings):
    settings.ALLOW_SIGNUP = False
    assert client.get(reverse("signup")).status_code == 404
    assert "Sign up" not in client.get(reverse("login")).content.decode()


def test_signup_creates_an_account_and_logs_in_when_switched_on(client, db, settings):
    settings.ALLOW_SIGNUP = True
    assert "Sign up" in client.get(reverse("login")).content.decode()
    password = "a-long-enough-passphrase-42"
    response = client.post(reverse("signup"), {"username": "carol", "password1": password, "password2": password})
    assert response.status_code == 302 and response.url == reverse("conversations:list")
    assert get_user_model().objects.filter(username="carol").exists()
    assert client.get(reverse("conversations:list")).status_code == 200


def test_password_change(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": "pw-alice", "new_password1": "another-long-pass-77", "new_password2": "another-long-pass-77"},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("another-long-pass-77")


def test_staff_see_the_admin_link_and_others_do_not(client, alice, bob):
    bob.is_staff = True
    bob.save()
    client.force_login(alice)
    assert "/admin/" not in client.get(reverse("conversations:list")).content.decode()
    client.force_login(bob)
    assert 'href="/admin/">Admin</a>' in client.get(reverse("conversations:list")).content.decode()


def test_logout(client, alice):
    client.force_login(alice)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("conversations:list")).status_code == 302


def _log_in(client, username: str, password: str, url: str = "login"):
    return client.post(reverse(url), {"username": username, "password": password})


def test_logins_are_throttled_after_repeated_failures_with_a_clear_message(client, alice, bob, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert _log_in(client, "alice", "wrong").status_code == 200
    refused = _log_in(client, "alice", "pw-alice")  # even the right password, for now
    assert refused.status_code == 429
    assert "Too many failed log-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user name from the same address is not locked out by alice's failures.
    assert _log_in(client, "bob", "pw-bob").status_code == 302


def test_the_admin_login_is_throttled_too(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    alice.is_staff = True
    alice.save()
    for _ in range(2):
        _log_in(client, "alice", "wrong", url="admin:login")
    refused = _log_in(client, "alice", "pw-alice", url="admin:login")
    assert "Too many failed log-ins" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_login_under_the_limit_works(client, alice, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    _log_in(client, "alice", "wrong")
    assert _log_in(client, "alice", "pw-alice").status_code == 302
