"""Rate limits count and decide in one database statement, so parallel requests cannot pass."""

import pytest
from django.db import connection

from conftest import run_at_once
from ragchat import ratelimit
from ragchat.models import RateLimitCounter
from ragchat.ratelimit import RateLimit


@pytest.fixture
def clock(monkeypatch):
    """A settable clock for the rate limits, starting at the beginning of an hour."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    return now


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_against_a_limit_of_five_let_exactly_five_through():
    limit = RateLimit("test", limit=5, window=3600)
    decisions, errors = run_at_once(lambda: limit.consume("alice"), times=20)
    assert errors == []
    assert sum(decision.allowed for decision in decisions) == 5
    assert all(0 < decision.retry_after <= 3600 for decision in decisions if not decision.allowed)


@pytest.mark.django_db
def test_a_counter_survives_a_flood_of_other_keys():
    limit = RateLimit("test", limit=2, window=3600)
    limit.consume("alice")
    limit.consume("alice")
    for n in range(1000):
        limit.consume(f"flood-{n}")
    assert not limit.consume("alice").allowed


@pytest.mark.django_db
def test_the_count_starts_again_in_the_next_window_and_retry_after_says_when(clock):
    limit = RateLimit("test", limit=1, window=60)
    clock[0] += 15
    assert limit.consume("alice").allowed
    refused = limit.consume("alice")
    assert not refused.allowed and refused.retry_after == 45
    clock[0] += 45
    assert limit.consume("alice").allowed


@pytest.mark.django_db
def test_limits_of_different_scopes_and_keys_count_apart():
    questions, sign_ups = RateLimit("ask", limit=1, window=60), RateLimit("signup", limit=1, window=60)
    assert questions.consume("1").allowed and sign_ups.consume("1").allowed and questions.consume("2").allowed
    assert not questions.consume("1").allowed


@pytest.mark.django_db
def test_a_limit_of_zero_allows_everything_and_counts_nothing():
    limit = RateLimit("test", limit=0, window=60)
    assert all(limit.consume("alice").allowed for _ in range(10))
    assert not RateLimitCounter.objects.exists()


@pytest.mark.django_db
def test_counters_of_ended_windows_are_deleted_when_new_counters_start(clock):
    limit = RateLimit("test", limit=5, window=60)
    for n in range(3):
        limit.consume(f"user-{n}")
    clock[0] += 120
    limit.consume("someone-new")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM ragchat_ratelimitcounter")
        assert [row[0] for row in cursor.fetchall()] == ["someone-new"]
