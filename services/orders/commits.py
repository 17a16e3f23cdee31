"""Group commit: writes that arrive while a transaction is in flight share the next one.

Placing an order writes three rows (order, lines, outbox event) in one transaction. Under load,
orders placed while a commit is in flight are queued and written together by the next
transaction: one multi-row statement per table and one commit for the whole batch instead of
four round trips and a commit each (on this machine MariaDB's CPU and the orders service's
socket writes per order fell by more than half). While writes keep coming, a write that finds
no transaction in flight may linger a few milliseconds for others to join it (``linger_s``); a
lone order of a quiet shop is written at once.

Each writer still learns the outcome of its own rows, and only after the commit: a batch that
fails for a reason that may belong to one of its writes (a duplicate idempotency key, a value
the table refuses) is retried one write at a time, so every writer gets the answer it would
have had alone. A batch that fails because the database is unreachable fails every writer,
those queued behind it too.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
BUSY_WITHIN = 10
"""A write lingers (see ``GroupCommit``) only when the last transaction started less than this many
lingers ago: under steady traffic, not for the lone order of a quiet shop."""


class GroupCommit(Generic[T]):
    def __init__(self, write_many: Callable[[list[T]], Awaitable[None]], *, max_batch: int = 100,
                 shared_failures: tuple[type[BaseException], ...] = (), linger_s: float = 0.0) -> None:
        """``write_many`` writes its items in one transaction (all or none); ``shared_failures``
        are the errors that concern the whole batch (not retried one by one); ``linger_s``: while
        writes keep coming (the previous transaction started less than ``BUSY_WITHIN`` lingers
        ago), a write that finds no transaction in flight waits this long for company before its
        transaction starts; a write after a quiet spell, or queued behind a transaction in flight,
        never waits for it."""
        self.write_many = write_many
        self.max_batch = max_batch
        self.linger_s = linger_s
        self._started = -math.inf  # when the last transaction started (monotonic)
        self.shared_failures = shared_failures
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.transactions = 0  # transactions issued (for tests and tuning)

    async def write(self, item: T) -> None:
        """Returns once ``item`` is committed; raises what its transaction raised.

        Cancelling the caller does not cancel the write: the outcome is the batch's.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(future)

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[None]]] = []
        try:
            if self.linger_s > 0 and time.monotonic() - self._started < BUSY_WITHIN * self.linger_s:
                await asyncio.sleep(self.linger_s)
            while self._waiting:
                batch, self._waiting = self._waiting[:self.max_batch], self._waiting[self.max_batch:]
                await self._commit(batch)
                batch = []
        except BaseException:  # cancelled (shutting down): nobody may wait forever
            for _, future in batch + self._waiting:
                future.cancel()
            self._waiting = []
            raise
        finally:
            self._writer = None

    async def _commit(self, batch: list[tuple[T, asyncio.Future[None]]]) -> None:
        try:
            await self._transaction([item for item, _ in batch])
        except Exception as exc:
            if isinstance(exc, self.shared_failures):
                # the database did not answer: writes queued meanwhile fail with the batch instead of
                # each waiting in turn for the same failure (a hung database would queue them for minutes)
                batch, self._waiting = batch + self._waiting, []
            if len(batch) == 1 or isinstance(exc, self.shared_failures):
                for _, future in batch:
                    _settle(future, exc)
                return
            for item, future in batch:  # one by one: each gets the answer it would have had alone
                try:
                    await self._transaction([item])
                except Exception as alone:
                    _settle(future, alone)
                else:
                    _settle(future, None)
            return
        for _, future in batch:
            _settle(future, None)

    async def _transaction(self, items: list[T]) -> None:
        self.transactions += 1
        self._started = time.monotonic()
        await self.write_many(items)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is None:
        future.set_result(None)
    else:
        future.set_exception(exc)
        future.exception()  # retrieved: a writer that was cancelled leaves no "never retrieved" warning
