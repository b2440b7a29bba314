"""Fixed-window rate limits kept in Django's cache.

The default cache is a table in PostgreSQL, so every worker and every machine shares the
counts; a deployment with Redis or Memcached can point ``CACHE_URL`` there instead. The window
is fixed (counts reset at each multiple of ``window`` seconds), which is simple and good enough
to stop floods; a burst across a window boundary may pass up to twice the limit.
"""

import math
import time
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class RateLimit:
    scope: str
    limit: int
    window: int  # seconds

    def _key(self, key: str) -> tuple[str, float]:
        now = time.time()
        window_start = math.floor(now / self.window) * self.window
        return f"ratelimit:{self.scope}:{key}:{window_start}", window_start + self.window - now

    def count(self, key: str) -> int:
        return cache.get(self._key(key)[0], 0)

    def hit(self, key: str) -> int:
        """Count one event; return the new count in this window."""
        cache_key, remaining = self._key(key)
        timeout = math.ceil(remaining) + 1
        if cache.add(cache_key, 1, timeout):
            return 1
        try:
            return cache.incr(cache_key)
        except ValueError:  # the entry expired between add() and incr()
            cache.set(cache_key, 1, timeout)
            return 1

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return math.ceil(self._key("")[1])

    def exceeded(self, key: str) -> bool:
        """Whether ``key`` has already used up this window (without counting a new event)."""
        return self.limit > 0 and self.count(key) >= self.limit
