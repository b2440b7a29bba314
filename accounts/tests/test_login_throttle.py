"""Failed log-ins lock out a user name from one address for a while, on the site and in the admin.

Counted by django-axes in the database, under the user name as Django reads it (NFKC, so a
fullwidth spelling is the same name) and case-folded.
"""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse

HOME = "203.0.113.5"
ELSEWHERE = "198.51.100.9"
LOCKED_OUT = "Too many failed log-ins for this user name. Please wait 15 minute(s) and try again."


def _log_in(client, username: str, password: str, url: str = "login", address: str = HOME):
    return client.post(reverse(url), {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.fixture
def limit_of_three(settings):
    """LOGIN_FAILURE_LIMIT and LOGIN_FAILURE_WINDOW_SECONDS as settings.py hands them to axes."""
    settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME = 3, timedelta(seconds=900)


def test_the_failure_that_reaches_the_limit_locks_out_with_429_and_a_clear_message(client, alice, limit_of_three):
    for _ in range(2):
        assert _log_in(client, "alice", "wrong").status_code == 200
    locked = _log_in(client, "alice", "wrong")
    assert locked.status_code == 429
    assert LOCKED_OUT in locked.content.decode()
    refused = _log_in(client, "alice", "pw-alice")  # even the right password, for now
    assert refused.status_code == 429 and LOCKED_OUT in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_fullwidth_spelling_of_the_user_name_is_counted_and_locked_out_as_the_same_name(
    client, alice, limit_of_three
):
    for _ in range(3):
        _log_in(client, "\uff41lice", "wrong")  # "ａlice": Django's NFKC makes it "alice"
    refused = _log_in(client, "\uff41lice", "pw-alice")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert _log_in(client, "ALICE", "pw-alice").status_code == 429  # case-folded too


def test_the_admin_login_is_throttled_too(client, alice, limit_of_three):
    alice.is_staff = True
    alice.save()
    for _ in range(3):
        _log_in(client, "\uff41lice", "wrong", url="admin:login")
    refused = _log_in(client, "alice", "pw-alice", url="admin:login")
    assert LOCKED_OUT in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_locked_out_name_can_still_log_in_from_another_address(client, alice, limit_of_three):
    for _ in range(3):
        _log_in(client, "alice", "wrong", address=HOME)
    assert _log_in(client, "alice", "pw-alice", address=HOME).status_code == 429
    assert _log_in(client, "alice", "pw-alice", address=ELSEWHERE).status_code == 302


def test_another_user_name_from_the_same_address_is_not_locked_out(client, alice, bob, limit_of_three):
    for _ in range(3):
        _log_in(client, "alice", "wrong")
    assert _log_in(client, "bob", "pw-bob").status_code == 302


def test_a_successful_login_under_the_limit_works(client, alice, limit_of_three):
    _log_in(client, "alice", "wrong")
    assert _log_in(client, "alice", "pw-alice").status_code == 302


def test_failures_and_the_lockout_are_logged_with_the_name_and_address(client, alice, limit_of_three, caplog):
    caplog.set_level(logging.WARNING)
    for _ in range(3):
        _log_in(client, "alice", "wrong")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("axes")]
    assert any("login failure" in line and "alice" in line and HOME in line for line in lines)
    assert any(line.startswith("AXES: Locking out") and "alice" in line for line in lines)
