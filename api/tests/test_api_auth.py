"""Who may call the API: a live token's user, or a signed-in browser that sends its CSRF token."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.tests.conftest import Api, is_problem
from api.tokens import token_create, token_revoke


def test_no_token_is_401_with_a_sentence_that_says_what_to_do(anonymous):
    body = is_problem(anonymous.get("/conversations"), 401)
    assert "Authorization: Bearer" in body["detail"] and "API tokens page" in body["detail"]
    assert anonymous.get("/conversations")["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("how", ["revoked", "expired", "unknown", "inactive user"])
def test_a_token_that_no_longer_works_is_401(client, alice, how):
    token, raw = token_create(user=alice, name="laptop")
    if how == "revoked":
        token_revoke(token=token)
    elif how == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif how == "unknown":
        raw = raw[:-4] + "AAAA"
    else:
        alice.is_active = False
        alice.save()
    is_problem(Api(client, raw).get("/conversations"), 401)
    is_problem(Api(client, raw).post("/conversations", {"title": "x"}), 401)


def test_a_token_acts_as_its_user(as_alice, alice):
    response = as_alice.post("/conversations", {"title": "Mine"})
    assert response.status_code == 201
    assert alice.conversations.get().title == "Mine"


def test_the_signed_in_browser_may_read_and_must_send_csrf_to_write(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/api/conversations").status_code == 200

    refused = browser.post("/api/conversations", "{}", content_type="application/json")
    assert refused.status_code == 403 and not alice.conversations.exists()

    browser.get("/accounts/tokens/")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    sent = browser.post("/api/conversations", "{}", content_type="application/json", headers={"X-CSRFToken": csrf})
    assert sent.status_code == 201 and alice.conversations.exists()


def test_a_bearer_token_needs_no_csrf(alice, alice_token):
    program = Client(enforce_csrf_checks=True)
    assert Api(program, alice_token).post("/conversations", {}).status_code == 201
