"""The bounded pool where async code runs blocking work (ragchat/blocking.py): at most
BLOCKING_THREADS steps at once, results and errors passed back, and each step's database
connection given back when it ends, not kept for the length of a stream."""

import asyncio
import threading

import pytest
from django.db import connection

from ragchat import blocking


@pytest.fixture
def pool_of(settings, monkeypatch):
    """A fresh pool of ``size`` threads for this test (the real one is made once per process)."""

    def make(size: int) -> None:
        settings.BLOCKING_THREADS = size
        monkeypatch.setattr(blocking, "_executor", None)

    yield make
    if blocking._executor is not None:
        blocking._executor.shutdown()


def test_no_more_steps_run_at_once_than_the_pool_has_threads(pool_of):
    pool_of(2)
    running, most, lock = 0, 0, threading.Lock()
    pairs = threading.Barrier(2, timeout=30)  # steps meet in pairs: two must run at once, and a third could join

    def step() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        pairs.wait()
        with lock:
            running -= 1

    async def many() -> None:
        await asyncio.gather(*(blocking.in_pool(step) for _ in range(8)))

    asyncio.run(many())
    assert most == 2


def test_results_and_errors_come_back_to_the_caller(pool_of):
    pool_of(1)

    def fail() -> None:
        raise ValueError("no such thing")

    assert asyncio.run(blocking.in_pool(sum, [1, 2, 3])) == 6
    with pytest.raises(ValueError, match="no such thing"):
        asyncio.run(blocking.in_pool(fail))


def test_a_step_gives_its_database_connection_back_when_it_ends(db, pool_of):
    pool_of(1)  # one thread: the second step runs where the first one did

    def query() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0]

    async def two_steps() -> tuple[int, bool]:
        answer = await blocking.in_pool(query)
        return answer, await blocking.in_pool(lambda: connection.connection is None)

    assert asyncio.run(two_steps()) == (1, True)
