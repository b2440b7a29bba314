"""The two ways of signing in, each switched on or off: what the pages offer and what they refuse.
(The sign-in itself, against a real provider: test_sso_flow.py.)"""

import os
import socket
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from conftest import make_user

SSO_BUTTON = "Sign in with Example SSO"


@pytest.fixture
def sso_on(settings):
    settings.OIDC_ENABLED = True
    settings.OIDC_PROVIDER_NAME = "Example SSO"
    settings.OIDC_ISSUER = "http://127.0.0.1:9/o"  # nothing listens: the pages here never call it
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = "ragchat", "not-a-secret"


@pytest.fixture
def local_off(settings, sso_on):
    settings.LOCAL_LOGIN_ENABLED = False
    settings.ALLOW_SIGNUP = True  # switched off all the same, with local log-in


def test_by_default_the_login_page_has_the_password_form_and_no_sso_button(client, db):
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' in page and "Sign in with" not in page


def test_with_sso_off_its_urls_answer_404(client, db):
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_with_sso_on_the_login_page_offers_both(client, db, sso_on):
    page = client.get(reverse("login"), {"next": "/knowledge/"}).content.decode()
    assert 'name="password"' in page
    assert f'href="{reverse("oidc_authentication_init")}?next=/knowledge/">{SSO_BUTTON}</a>' in page


def test_with_local_login_off_the_page_has_no_password_form_nor_sign_up(client, db, local_off):
    page = client.get(reverse("login")).content.decode()
    assert 'name="password"' not in page and SSO_BUTTON in page
    assert "Sign up" not in page
    assert client.get(reverse("signup")).status_code == 404


def test_with_local_login_off_a_password_sent_anyway_is_refused_before_it_is_checked(client, alice, local_off):
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})

    assert response.status_code == 403
    assert "Log-in with a password is switched off on this site: sign in with Example SSO." in response.content.decode()
    assert client.get(reverse("conversations:list")).status_code == 302  # still not logged in


def test_with_local_login_off_the_admin_sends_staff_to_the_sites_login(client, staff_user, local_off):
    response = client.post(reverse("admin:login"), {"username": "staff", "password": "pw-staff"})
    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=" + reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 302  # not logged in by the admin form either


def test_with_local_login_on_the_admin_form_logs_staff_in(client, staff_user):
    response = client.post(reverse("admin:login"), {"username": "staff", "password": "pw-staff"})
    assert response.status_code == 302 and client.get(reverse("admin:index")).status_code == 200


def test_password_change_is_for_password_accounts_only(client, alice, settings):
    sso_user = get_user_model().objects.create_user(username="sso-user")  # as single sign-on makes them
    client.force_login(sso_user)
    assert ">Password</a>" not in client.get(reverse("conversations:list")).content.decode()
    assert client.get(reverse("password_change")).status_code == 404
    client.force_login(alice)
    assert ">Password</a>" in client.get(reverse("conversations:list")).content.decode()
    settings.LOCAL_LOGIN_ENABLED = False
    assert client.get(reverse("password_change")).status_code == 404


def test_password_log_ins_are_still_throttled_with_sso_on(client, alice, sso_on):
    for _ in range(django_settings.LOGIN_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "alice", "password": "pw-alice"})
    assert response.status_code == 429


def test_a_provider_that_cannot_be_reached_makes_a_page_that_says_so(client, db, sso_on, settings):
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        settings.OIDC_ISSUER = f"http://127.0.0.1:{closed.getsockname()[1]}/o"
        response = client.get(reverse("oidc_authentication_init"))

    assert response.status_code == 503
    assert "Example SSO cannot be reached right now" in response.content.decode()
    assert client.get(reverse("login")).status_code == 200  # the site itself is fine


def test_a_session_signed_in_with_sso_ends_when_sso_is_switched_off(client, db, sso_on, settings):
    user = make_user("hana")
    client.force_login(user, backend="accounts.oidc_backend.OidcBackend")
    assert client.get(reverse("conversations:list")).status_code == 200
    settings.OIDC_ENABLED = False
    assert client.get(reverse("conversations:list")).status_code == 302


def settings_error(**env: str) -> str:
    """What importing the sign-in settings says with this environment (nothing if they are fine)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "", **env}
    command = [sys.executable, "-c", "import ragchat.settings_sso"]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=django_settings.BASE_DIR)
    return result.stderr.strip().splitlines()[-1] if result.returncode else ""


def test_settings_refuse_a_site_nobody_could_sign_in_to():
    assert "nobody could sign in" in settings_error(LOCAL_LOGIN_ENABLED="false", OIDC_ENABLED="false")
    assert "OIDC_RP_CLIENT_ID" in settings_error(OIDC_ENABLED="true", OIDC_ISSUER="https://id.example.org")
    secrets = {"OIDC_RP_CLIENT_ID": "ragchat", "OIDC_RP_CLIENT_SECRET": "s"}
    assert "OIDC_ISSUER" in settings_error(OIDC_ENABLED="true", **secrets)
    assert settings_error(OIDC_ENABLED="true", OIDC_ISSUER="https://id.example.org", **secrets) == ""


def test_a_provider_that_says_no_makes_a_page_that_says_so(client, db, sso_on):
    response = client.get(reverse("oidc_authentication_callback"), {"error": "access_denied", "state": "x"})
    assert response.status_code == 403
    assert "Example SSO did not sign you in" in response.content.decode()
