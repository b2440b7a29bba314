from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone

from api.models import ApiToken
from api.tokens import LAST_USE_PRECISION, PREFIX, bearer_user, token_create, token_revoke, token_user


def test_a_new_token_is_returned_once_and_only_its_hash_is_stored(alice):
    token, raw = token_create(user=alice, name="laptop")

    assert raw.startswith(PREFIX) and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in [str(value) for value in vars(stored).values()]
    assert stored.hint == raw[:10] and stored.token_hash != raw
    assert token_user(raw) == alice


def test_two_tokens_are_never_alike(alice):
    assert token_create(user=alice, name="one")[1] != token_create(user=alice, name="two")[1]


@pytest.mark.parametrize("raw", ["", "rc_", "rc_not-a-token", "Bearer rc_x", "x" * 500])
def test_unknown_tokens_belong_to_nobody(alice, raw):
    token_create(user=alice, name="laptop")
    assert token_user(raw) is None


def test_a_revoked_token_stops_working(alice):
    token, raw = token_create(user=alice, name="laptop")
    token_revoke(token=token)
    assert token_user(raw) is None


def test_an_expired_token_stops_working(alice):
    token, raw = token_create(user=alice, name="laptop", expires_at=timezone.now() + timedelta(days=1))
    assert token_user(raw) == alice
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert token_user(raw) is None


def test_the_token_of_an_inactive_user_stops_working(alice):
    raw = token_create(user=alice, name="laptop")[1]
    alice.is_active = False
    alice.save()
    assert token_user(raw) is None


def test_last_use_is_recorded_at_most_once_a_minute(alice):
    token, raw = token_create(user=alice, name="laptop")
    token_user(raw)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None

    token_user(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - LAST_USE_PRECISION - timedelta(seconds=1))
    token_user(raw)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_names_are_unique_among_a_users_live_tokens(alice, bob):
    token, _ = token_create(user=alice, name="laptop")
    with pytest.raises(ValidationError):
        token_create(user=alice, name="laptop")
    token_create(user=bob, name="laptop")
    token_revoke(token=token)
    token_create(user=alice, name="laptop")  # the name is free again once revoked


@pytest.mark.parametrize(
    "header", ["Bearer {raw}", "bearer {raw}", "Bearer  {raw} "], ids=["Bearer", "lower case", "spaces"]
)
def test_bearer_user_reads_the_authorization_header(alice, header):
    raw = token_create(user=alice, name="laptop")[1]
    request = RequestFactory().get("/", headers={"Authorization": header.format(raw=raw)})
    assert bearer_user(request) == alice


@pytest.mark.parametrize("header", [None, "Token {raw}", "Basic {raw}", "{raw}", "Bearer"])
def test_bearer_user_refuses_other_schemes(alice, header):
    raw = token_create(user=alice, name="laptop")[1]
    headers = {"Authorization": header.format(raw=raw)} if header else {}
    assert bearer_user(RequestFactory().get("/", headers=headers)) is None
