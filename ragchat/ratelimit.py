"""Fixed-window rate limits counted in a PostgreSQL table.

``consume`` counts an event and decides in one statement (an UPSERT that returns the new
count), so parallel requests cannot all pass a check made before any of them was counted. The
rows are ordinary table rows shared by every worker and machine: unlike a cache, nothing evicts
them while their window lasts. Counters of ended windows are deleted a few at a time whenever a
new counter starts, so the table stays about as large as one window's worth of keys.

The window is fixed (counts reset at each multiple of ``window`` seconds), which is simple and
good enough to stop floods; a burst across a window boundary may pass up to twice the limit.
"""

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection

from ragchat.models import RateLimitCounter

TABLE = RateLimitCounter._meta.db_table
# Enough that cleanup outpaces new counters; SKIP LOCKED keeps workers from waiting on each other.
CLEANUP_BATCH = 100

_COUNT_SQL = f"""
    INSERT INTO {TABLE} (scope, key, window_start, expires_at, count) VALUES (%s, %s, %s, %s, 1)
    ON CONFLICT (scope, key, window_start) DO UPDATE SET count = {TABLE}.count + 1
    RETURNING count
"""
_CLEANUP_SQL = f"""
    DELETE FROM {TABLE} WHERE id IN (
        SELECT id FROM {TABLE} WHERE expires_at <= %s LIMIT {CLEANUP_BATCH} FOR UPDATE SKIP LOCKED
    )
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int  # seconds until the window ends: how long a refused caller should wait


@dataclass(frozen=True)
class RateLimit:
    scope: str
    limit: int  # events per window; 0 means no limit
    window: int  # seconds

    def _window(self) -> tuple[datetime, datetime, float]:
        """The current window's start and end, and the seconds left in it."""
        now = time.time()
        start = math.floor(now / self.window) * self.window
        as_datetime = datetime.fromtimestamp
        return as_datetime(start, UTC), as_datetime(start + self.window, UTC), start + self.window - now

    def consume(self, key: str) -> Decision:
        """Count one event for ``key`` and say whether it is within the limit."""
        if self.limit <= 0:
            return Decision(allowed=True, retry_after=0)
        count = self._count(key)
        return Decision(allowed=count <= self.limit, retry_after=self.retry_after())

    def _count(self, key: str) -> int:
        """Count one event; return the new count in this window."""
        start, end, _ = self._window()
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_SQL, [self.scope, key, start, end])
            count = cursor.fetchone()[0]
            if count == 1:  # a new counter: clear away some that have ended
                cursor.execute(_CLEANUP_SQL, [datetime.fromtimestamp(time.time(), UTC)])
        return count

    def retry_after(self) -> int:
        """Seconds until the current window ends."""
        return math.ceil(self._window()[2])
