"""Group commit of order writes (services.orders.commits), against an in-memory table."""

from __future__ import annotations

import asyncio

import pytest

from services.orders.commits import GroupCommit


class Refused(Exception):
    """A row the table refuses (like a duplicate key): it fails any transaction it is part of."""


class Down(Exception):
    """The database is unreachable."""


class Table:
    def __init__(self, refuse: frozenset[int] = frozenset(), down: bool = False, delay_s: float = 0.01) -> None:
        self.rows: list[int] = []
        self.transactions: list[list[int]] = []
        self.refuse = refuse
        self.down = down
        self.delay_s = delay_s

    async def write_many(self, items: list[int]) -> None:
        """All or nothing, like one database transaction."""
        self.transactions.append(list(items))
        await asyncio.sleep(self.delay_s)
        if self.down:
            raise Down
        if self.refuse & set(items):
            raise Refused
        self.rows += items


async def _storm(commits: GroupCommit[int], items: range) -> list[BaseException | None]:
    return list(await asyncio.gather(*(commits.write(i) for i in items), return_exceptions=True))


def test_concurrent_writes_share_one_transaction() -> None:
    table = Table()
    commits = GroupCommit(table.write_many)
    results = asyncio.run(_storm(commits, range(20)))
    assert results == [None] * 20
    assert table.transactions == [list(range(20))]
    assert sorted(table.rows) == list(range(20))


def test_writes_arriving_during_a_commit_form_the_next_batch() -> None:
    table = Table(delay_s=0.05)
    commits = GroupCommit(table.write_many)

    async def scenario() -> None:
        first = asyncio.ensure_future(commits.write(0))
        await asyncio.sleep(0.01)  # the first transaction is in flight now
        await asyncio.gather(first, *(commits.write(i) for i in range(1, 6)))

    asyncio.run(scenario())
    assert table.transactions == [[0], [1, 2, 3, 4, 5]]


def test_batches_are_capped() -> None:
    table = Table()
    commits = GroupCommit(table.write_many, max_batch=8)
    asyncio.run(_storm(commits, range(20)))
    assert [len(t) for t in table.transactions] == [8, 8, 4]


def test_a_refused_write_fails_alone_and_the_others_commit() -> None:
    table = Table(refuse=frozenset({3}))
    commits = GroupCommit(table.write_many, shared_failures=(Down,))
    results = asyncio.run(_storm(commits, range(6)))
    assert isinstance(results[3], Refused)
    assert [r for n, r in enumerate(results) if n != 3] == [None] * 5
    assert sorted(table.rows) == [0, 1, 2, 4, 5]
    assert len(table.transactions) == 1 + 6  # the batch, then each write alone


def test_a_shared_failure_fails_every_write_without_retries() -> None:
    table = Table(down=True)
    commits = GroupCommit(table.write_many, shared_failures=(Down,))
    results = asyncio.run(_storm(commits, range(5)))
    assert all(isinstance(r, Down) for r in results)
    assert table.transactions == [list(range(5))] and table.rows == []


def test_a_caller_that_goes_away_does_not_cancel_its_write() -> None:
    table = Table(delay_s=0.05)
    commits = GroupCommit(table.write_many)

    async def scenario() -> None:
        impatient = asyncio.ensure_future(commits.write(7))
        await asyncio.sleep(0.01)
        impatient.cancel()
        with pytest.raises(asyncio.CancelledError):
            await impatient
        await commits.write(8)  # the writer is still alive and writes the next batch

    asyncio.run(scenario())
    assert table.rows == [7, 8]


def test_while_writes_keep_coming_a_write_lingers_for_company() -> None:
    table = Table(delay_s=0.001)
    commits = GroupCommit(table.write_many, linger_s=0.05)

    async def scenario() -> None:
        await commits.write(0)  # traffic: the next write finds the last transaction recent
        first = asyncio.ensure_future(commits.write(1))
        await asyncio.sleep(0.01)  # no transaction is in flight: without the linger 1 would be written alone
        await asyncio.gather(first, commits.write(2))

    asyncio.run(scenario())
    assert table.transactions == [[0], [1, 2]]


def test_a_write_in_a_quiet_shop_does_not_linger() -> None:
    table = Table(delay_s=0.001)
    commits = GroupCommit(table.write_many, linger_s=30.0)

    async def scenario() -> None:
        await asyncio.wait_for(commits.write(0), 5)  # raises TimeoutError if it waited for the linger

    asyncio.run(scenario())
    assert table.transactions == [[0]]
