"""Single sign-on against a real OpenID Connect provider (oidc_server.py: django-oauth-toolkit in a
process of its own), through ragchat's live server, with an HTTP client that follows the redirects
and fills in the provider's log-in form as a browser would."""

import base64
import hashlib
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import OidcIdentity
from accounts.tests.oidc_server import CLIENT_SECRET, PASSWORD, sign_in
from conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_url(live_server):
    return live_server.url + reverse("oidc_authentication_init")


def signed_in_as(session: requests.Session, live_server) -> str | None:
    """Who the chat page greets in this session; None when it sends the visitor to log in."""
    page = session.get(live_server.url + reverse("conversations:list"), allow_redirects=False, timeout=30)
    if page.status_code == 302:
        return None
    return page.text.split('<span class="who">')[1].split("</span>")[0]


def test_the_first_sign_in_makes_the_user_with_the_mapped_groups(sso, start_url, live_server):
    sso.user("carol", groups=["finance-team", "not-mapped"], email="carol@example.org")
    session = requests.Session()

    chat = sign_in(session, start_url, "carol")

    assert chat.url == live_server.url + reverse("conversations:list")
    assert signed_in_as(session, live_server) == "carol"
    identity = OidcIdentity.objects.select_related("user").get()
    user = identity.user
    assert (user.username, user.email, user.first_name) == ("carol", "carol@example.org", "Carol")
    assert identity.issuer == sso.issuer and identity.subject.isdigit()  # the provider's sub: its user id
    assert {group.name for group in user.groups.all()} == {"accounting"}
    assert not user.has_usable_password()  # no password of ours to guess or to phish


def test_the_next_sign_in_follows_the_provider_groups_and_keeps_those_staff_gave(sso, start_url, live_server, settings):
    settings.OIDC_TOKEN_USE_BASIC_AUTH = True  # the other way of sending the client secret, tried here
    sso.user("dan", groups=["finance-team"])
    sign_in(requests.Session(), start_url, "dan")
    user = OidcIdentity.objects.get().user
    user.groups.add(Group.objects.create(name="reviewers"))  # by hand, in the admin
    sso.user("dan", groups=["everyone"])  # moved at the provider

    session = requests.Session()
    sign_in(session, start_url, "dan")

    assert signed_in_as(session, live_server) == "dan"
    assert OidcIdentity.objects.count() == 1
    assert {group.name for group in user.groups.all()} == {"staff-all", "reviewers"}


def test_a_local_account_with_the_same_address_is_not_taken_over(sso, start_url, live_server, client):
    local = make_user("erin", email="erin@example.org")
    sso.user("erin", groups=[], email="erin@example.org")
    session = requests.Session()

    sign_in(session, start_url, "erin")

    assert signed_in_as(session, live_server) == "erin-2"
    assert OidcIdentity.objects.get().user != local
    assert not local.oidc_identities.exists()
    # The local account logs in with its password as before.
    assert client.post(reverse("login"), {"username": "erin", "password": "pw-erin"}).status_code == 302


def test_an_answer_with_another_state_is_refused_with_a_page_that_says_so(sso, start_url, live_server):
    session = requests.Session()
    to_provider = session.get(start_url, allow_redirects=False, timeout=30)
    assert to_provider.headers["Location"].startswith(sso.issuer + "/authorize/")

    answer = session.get(live_server.url + "/oidc/callback/?code=made-up&state=not-the-one-we-sent", timeout=30)

    assert answer.status_code == 400
    assert "could not confirm this sign-in with Example SSO" in answer.text
    assert signed_in_as(session, live_server) is None


class TamperingProxy:
    """Between ragchat and the provider's token endpoint, an attacker who changes the ID token the
    provider sent: its payload rewritten to someone else's ``sub`` (the provider's signature kept),
    or the whole token replaced by ``replace_with``."""

    def __init__(self, token_endpoint: str, *, sub: str = "", replace_with: str = ""):
        def forge(id_token: str) -> str:
            if replace_with:
                return replace_with
            header, payload, signature = id_token.split(".")
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": sub}).encode()).rstrip(b"=").decode()
            return f"{header}.{forged}.{signature}"

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {name: self.headers[name] for name in ("Content-Type", "Authorization") if self.headers[name]}
                tokens = requests.post(token_endpoint, data=body, headers=headers, timeout=30).json()
                answer = json.dumps({**tokens, "id_token": forge(tokens["id_token"])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/token/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_tampered_id_token_is_refused_with_a_page_that_says_so(sso, start_url, live_server, settings):
    sso.user("frank", groups=[])
    sign_in(requests.Session(), start_url, "frank")
    victim = OidcIdentity.objects.get()
    sso.user("mallory", groups=[])
    proxy = TamperingProxy(sso.issuer + "/token/", sub=victim.subject)
    settings.OIDC_OP_TOKEN_ENDPOINT = proxy.url
    session = requests.Session()
    try:
        answer = sign_in(session, start_url, "mallory")
    finally:
        proxy.close()

    assert answer.status_code == 400
    assert "could not confirm this sign-in with Example SSO" in answer.text
    assert signed_in_as(session, live_server) is None
    assert OidcIdentity.objects.count() == 1  # mallory got no account either


def test_signing_out_ends_the_session_here_and_at_the_provider(sso, start_url, live_server):
    sso.user("grace", groups=[])
    session = requests.Session()
    sign_in(session, start_url, "grace")
    csrf = session.cookies.get("csrftoken")

    page = session.post(
        live_server.url + reverse("logout"),
        data={"csrfmiddlewaretoken": csrf},
        headers={"Referer": live_server.url + "/"},
        timeout=30,
    )

    assert signed_in_as(session, live_server) is None
    assert page.status_code == 200 and "Signed out of ragchat" in page.text
    provider_logout = page.text.split("url=")[1].split('"')[0].replace("&amp;", "&")
    assert provider_logout.startswith(sso.issuer + "/logout/?id_token_hint=")
    back = session.get(provider_logout, timeout=30)
    assert back.url == live_server.url + reverse("login")
    # The provider forgot the person too: the next sign-in asks for their password again.
    assert "Test provider" in session.get(start_url, timeout=30).text


def id_token_for_another_client(session: requests.Session, provider, nonce: str) -> str:
    """A genuine ID token of the provider for the user signed in there in ``session``, issued to
    another client of the same provider (as that client's own sign-in would get it)."""
    other, callback = "another-app", "http://127.0.0.1:9/callback"
    provider.client(redirect_uri=callback, client_id=other)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = {"client_id": other, "response_type": "code", "scope": "openid", "redirect_uri": callback,
             "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256", "state": "s"}  # fmt: skip
    to_client = session.get(provider.issuer + "/authorize/", params=query, allow_redirects=False, timeout=30)
    code = parse_qs(urlsplit(to_client.headers["Location"]).query)["code"][0]
    token = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback, "code_verifier": verifier}
    answer = requests.post(provider.issuer + "/token/", data=token, auth=(other, CLIENT_SECRET), timeout=30)
    return answer.json()["id_token"]


def test_an_id_token_issued_to_another_client_is_refused(sso, start_url, live_server, settings):
    """Signed by the provider, with the right nonce, but for another client (OpenID Connect Core 3.1.3.7:
    the audience must be this client; mozilla-django-oidc does not check it, ragchat's backend does)."""
    sso.user("kim", groups=[])
    session = requests.Session()
    login_page = session.get(start_url, timeout=30)
    authorize = re.search(r'name="next" value="([^"]*)"', login_page.text)[1].replace("&amp;", "&")
    nonce = parse_qs(urlsplit(authorize).query)["nonce"][0]
    form = {"csrfmiddlewaretoken": session.cookies["provider_csrftoken"], "next": authorize, "username": "kim"}
    signed_in = session.post(login_page.url, data={**form, "password": PASSWORD}, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 302  # signed in at the provider, on the way back to ragchat
    proxy = TamperingProxy(sso.issuer + "/token/", replace_with=id_token_for_another_client(session, sso, nonce))
    settings.OIDC_OP_TOKEN_ENDPOINT = proxy.url
    try:
        answer = session.get(urljoin(login_page.url, signed_in.headers["Location"]), timeout=30)
    finally:
        proxy.close()

    assert answer.status_code == 400
    assert "could not confirm this sign-in with Example SSO" in answer.text
    assert signed_in_as(session, live_server) is None
