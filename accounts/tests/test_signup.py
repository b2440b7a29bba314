"""Self-service sign-up: off by default, limited per address, and only with long passwords."""

from django.contrib.auth import get_user_model
from django.urls import reverse

PASSWORD = "a-long-enough-passphrase-42"


def _sign_up(client, username: str, password: str = PASSWORD, address: str = "203.0.113.7"):
    return client.post(
        reverse("signup"), {"username": username, "password1": password, "password2": password}, REMOTE_ADDR=address
    )


def test_signup_is_off_by_default(client, db, settings):
    settings.ALLOW_SIGNUP = False
    assert client.get(reverse("signup")).status_code == 404
    assert "Sign up" not in client.get(reverse("login")).content.decode()


def test_signup_creates_an_account_and_logs_in_when_switched_on(client, db, settings):
    settings.ALLOW_SIGNUP = True
    assert "Sign up" in client.get(reverse("login")).content.decode()
    response = _sign_up(client, "carol")
    assert response.status_code == 302 and response.url == reverse("conversations:list")
    assert get_user_model().objects.filter(username="carol").exists()
    assert client.get(reverse("conversations:list")).status_code == 200


def test_an_eleven_character_password_is_refused(client, db, settings):
    settings.ALLOW_SIGNUP = True
    response = _sign_up(client, "carol", password="Zq7!mK2#pL9")
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    assert not get_user_model().objects.filter(username="carol").exists()


def test_sign_ups_from_one_address_are_limited_with_a_clear_message(client, db, settings):
    settings.ALLOW_SIGNUP, settings.SIGNUP_RATE_LIMIT = True, 2
    for name in ["carol", "dave"]:
        assert _sign_up(client, name).status_code == 302
        client.logout()
    refused = _sign_up(client, "erin")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many sign-ups from your address" in page and "Please wait" in page
    assert not get_user_model().objects.filter(username="erin").exists()


def test_the_sign_up_limit_is_per_address(client, db, settings):
    settings.ALLOW_SIGNUP, settings.SIGNUP_RATE_LIMIT = True, 1
    assert _sign_up(client, "carol", address="203.0.113.7").status_code == 302
    client.logout()
    assert _sign_up(client, "dave", address="203.0.113.7").status_code == 429
    assert _sign_up(client, "dave", address="198.51.100.20").status_code == 302
