"""accounts.oidc: the provider's endpoints (given, or discovered once and cached) and signing out there.

A provider that names another issuer in its discovery document is one no real provider here can
play, so a stand-in answers that one document on 127.0.0.1.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from accounts import oidc

EXPLICIT = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://id.example.org/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://id.example.org/token",
    "OIDC_OP_USER_ENDPOINT": "https://id.example.org/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://id.example.org/jwks",
}


@pytest.fixture
def discovery_server():
    """A server answering every GET with ``server.document`` as JSON, counting the requests."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            server.requests += 1
            body = json.dumps(server.document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.requests, server.issuer = 0, f"http://127.0.0.1:{server.server_port}/o"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_endpoints_given_in_the_settings_are_used_without_asking_the_provider(settings):
    for name, value in EXPLICIT.items():
        setattr(settings, name, value)
    settings.OIDC_ISSUER = "http://127.0.0.1:9/o"  # nothing listens there
    assert oidc.endpoint("token_endpoint") == "https://id.example.org/token"
    assert oidc.endpoint("jwks_uri") == "https://id.example.org/jwks"


def test_the_discovery_document_is_read_once_then_cached(settings, discovery_server):
    settings.OIDC_ISSUER = discovery_server.issuer
    discovery_server.document = {"issuer": discovery_server.issuer, "token_endpoint": "http://127.0.0.1:1/token"}

    assert oidc.endpoint("token_endpoint") == "http://127.0.0.1:1/token"
    assert oidc.endpoint("end_session_endpoint") == ""  # a provider without one
    assert discovery_server.requests == 1


def test_a_discovery_document_naming_another_issuer_is_not_trusted(settings, discovery_server):
    settings.OIDC_ISSUER = discovery_server.issuer
    discovery_server.document = {"issuer": "https://elsewhere.example.org", "token_endpoint": "https://x/token"}
    with pytest.raises(oidc.ProviderUnavailable):
        oidc.endpoint("token_endpoint")


def test_signing_out_without_a_provider_end_session_endpoint_just_signs_out_here(client, alice, settings):
    settings.OIDC_ENABLED, settings.OIDC_ISSUER = True, ""
    for name, value in EXPLICIT.items():
        setattr(settings, name, value)
    client.force_login(alice)
    session = client.session
    session["oidc_id_token"] = "an-id-token"
    session.save()

    response = client.post(reverse("logout"))

    assert response.status_code == 302 and response.url == reverse("login")
    assert client.get(reverse("conversations:list")).status_code == 302
