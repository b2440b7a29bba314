"""Blocking work (database queries, the embedding model, the extractive answer) run from async code.

An async stream must not block the event loop, and it must not start a thread per stream
either: hundreds of streams wait on the model at once. Blocking steps go to one small pool of
threads per process (``BLOCKING_THREADS``), so the database and the cores see at most that many
of them at a time, and each step gives its database connection back when it ends, as a request
does, instead of keeping it for the length of a stream.
"""

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

P = ParamSpec("P")
R = TypeVar("R")

_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    # Made on first use, after gunicorn has forked the worker: threads do not survive a fork.
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.BLOCKING_THREADS, thread_name_prefix="blocking")
    return _executor


async def in_pool(function: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run ``function`` in the bounded pool and return its result (or raise its error)."""
    return await sync_to_async(_with_connection_care(function), thread_sensitive=False, executor=_pool())(
        *args, **kwargs
    )


def _with_connection_care(function: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        # What Django does around each request: drop a broken or expired connection before, and
        # give the connection back after (to the pool with DATABASE_POOL, or closed with CONN_MAX_AGE 0).
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return run
