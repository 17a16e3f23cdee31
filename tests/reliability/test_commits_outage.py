"""A database that hangs or is down fails the writes queued behind a failed group commit at once.

Without it every queued batch waits for its own read timeout in turn, and the last order of a
queue of N waits N timeouts (past the gateway's 15 s: a 504 instead of a 503).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from services.orders.commits import GroupCommit


class Hung:
    """A database whose every transaction fails after ``timeout_s`` (the connection's read timeout)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.transactions: list[list[int]] = []

    async def write_many(self, items: list[int]) -> None:
        self.transactions.append(list(items))
        await asyncio.sleep(self.timeout_s)
        raise OSError("read timeout")


async def _writes_arriving_during_an_outage(commits: GroupCommit[int]) -> list[tuple[BaseException | None, float]]:
    async def one(item: int, after_s: float) -> tuple[BaseException | None, float]:
        await asyncio.sleep(after_s)
        started = time.monotonic()
        try:
            await commits.write(item)
        except Exception as exc:
            return exc, time.monotonic() - started
        return None, time.monotonic() - started

    return list(await asyncio.gather(*(one(i, i * 0.05) for i in range(6))))


def test_writes_queued_behind_a_failed_batch_fail_with_it() -> None:
    database = Hung(timeout_s=0.5)
    commits = GroupCommit(database.write_many, shared_failures=(OSError,))
    results = asyncio.run(_writes_arriving_during_an_outage(commits))
    assert all(isinstance(exc, OSError) for exc, _ in results)
    assert database.transactions == [[0]]  # the queued five never started a transaction of their own
    assert max(took for _, took in results) < 0.5 + 0.2


def test_a_write_after_the_failure_tries_the_database_again() -> None:
    database = Hung(timeout_s=0.05)
    commits = GroupCommit(database.write_many, shared_failures=(OSError,))

    async def twice() -> None:
        for _ in range(2):
            with contextlib.suppress(OSError):
                await commits.write(1)

    asyncio.run(twice())
    assert database.transactions == [[1], [1]]
