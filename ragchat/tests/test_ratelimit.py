"""Rate limits (ratelimit.py): counts shared by every worker. What a user sees when refused is
tested with the views that apply a limit (conversations/tests/test_ask.py, test_message_regenerate.py)."""

import pytest

from ragchat.ratelimit import RateLimit


@pytest.mark.django_db
def test_rate_limits_count_in_the_database_cache_shared_by_all_workers(settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "ragchat_cache"}
    }
    limit = RateLimit("test", limit=2, window=3600)
    assert [limit.hit("u1") for _ in range(3)] == [1, 2, 3]
    assert limit.exceeded("u1") and not limit.exceeded("u2")
    assert 0 < limit.retry_after() <= 3600
