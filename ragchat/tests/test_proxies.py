"""Forwarded headers count only when they come from a trusted proxy (BEHIND_PROXY, TRUSTED_PROXIES)."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from ragchat.proxies import client_ip

CLIENT = "198.51.100.1"


@pytest.fixture
def behind_proxy(settings):
    settings.BEHIND_PROXY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1", "10.0.0.0/8"]


def _request(peer: str, forwarded_for: str = ""):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return RequestFactory().get("/", REMOTE_ADDR=peer, **headers)


def test_a_trusted_proxy_gives_the_client_address(behind_proxy):
    assert client_ip(_request("127.0.0.1", CLIENT)) == CLIENT
    assert client_ip(_request("::1", CLIENT)) == CLIENT


def test_proxies_in_a_trusted_chain_are_skipped_and_forged_entries_on_the_left_ignored(behind_proxy):
    assert client_ip(_request("127.0.0.1", f"203.0.113.66, {CLIENT}, 10.1.2.3")) == CLIENT


def test_an_untrusted_peer_cannot_forge_its_address(behind_proxy):
    assert client_ip(_request("203.0.113.9", CLIENT)) == "203.0.113.9"


def test_forwarded_headers_are_ignored_when_not_behind_a_proxy(settings):
    settings.BEHIND_PROXY = False
    assert client_ip(_request("127.0.0.1", CLIENT)) == "127.0.0.1"


def test_a_malformed_forwarded_address_falls_back_to_the_peer(behind_proxy):
    assert client_ip(_request("127.0.0.1", "not-an-address")) == "127.0.0.1"


def test_https_forwarded_by_a_trusted_proxy_is_believed(client, db, behind_proxy, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"), REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200


def test_https_claimed_by_an_untrusted_peer_is_not_believed(client, db, behind_proxy, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"), REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response.url.startswith("https://")
