"""The orders store writes a batch all or nothing (services.orders.store), on the test stack's MariaDB.

A batch is one transaction of three multi-row statements (orders, lines, outbox events): a
statement that fails leaves nothing of the statements before it, and the pool's connections go on
serving the next batches.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from asyncmy.errors import IntegrityError
from asyncmy.pool import Pool

from ecomctl.local.platform import LocalPlatform
from services.kit import mysql
from services.kit.events import ORDER_CREATED, rfc3339
from services.orders.schemas import Order, OrderLine
from services.orders.service import event_of
from services.orders.settings import Settings
from services.orders.store import NewOrder, OrderStore

pytestmark = [pytest.mark.platform]


def _new(user_id: str, key: str | None) -> NewOrder:
    now = datetime.now(UTC)
    order_id = uuid.uuid4().hex
    line = OrderLine(product_id="store-test", name="Store test", quantity=2, unit_price="3.50", line_total="7.00")
    order = Order(order_id, user_id, "created", [line], "7.00", "EUR", rfc3339(now), rfc3339(now))
    return NewOrder(order, now, key, "orders-events", event_of(order, ORDER_CREATED, order.created_at))


async def _rows(pool: Pool, order_ids: Sequence[str]) -> tuple[int, int, int]:
    """Orders, lines and outbox rows stored for these orders."""
    marks = ", ".join(["%s"] * len(order_ids))
    counts = []
    for table, column in (("orders", "id"), ("order_items", "order_id"), ("outbox", "msg_key")):
        row = await mysql.fetch_one(pool, f"SELECT COUNT(*) FROM {table} WHERE {column} IN ({marks})",
                                    tuple(order_ids))
        assert row is not None
        counts.append(int(row[0]))
    return counts[0], counts[1], counts[2]


def test_a_batch_is_written_all_or_nothing_and_the_connection_serves_on(platform: LocalPlatform) -> None:
    settings = Settings.from_env(platform.service_env("orders"))
    user_id = f"store-{uuid.uuid4().hex[:12]}"

    async def run() -> None:
        pool = await mysql.create_pool(settings.mysql)
        try:
            store = OrderStore(pool)
            first, duplicate = _new(user_id, "key-1"), _new(user_id, "key-1")
            # the second order's key repeats the first's: its INSERT row fails the whole statement
            with pytest.raises(IntegrityError):
                await store.insert_many([first, duplicate])
            assert await _rows(pool, [first.order.id, duplicate.order.id]) == (0, 0, 0)

            # the last statement (the outbox) fails: the orders and lines before it are not kept
            event_twice = _new(user_id, None)
            again = NewOrder(_new(user_id, None).order, event_twice.created, None, "orders-events", event_twice.event)
            with pytest.raises(IntegrityError):
                await store.insert_many([event_twice, again])
            assert await _rows(pool, [event_twice.order.id, again.order.id]) == (0, 0, 0)

            # every connection of the pool still answers: a batch after the failures is stored whole
            batches = [[_new(user_id, f"key-{n}-a"), _new(user_id, None)] for n in range(pool.maxsize + 2)]
            await asyncio.gather(*(store.insert_many(batch) for batch in batches))
            stored = [new.order.id for batch in batches for new in batch]
            assert await _rows(pool, stored) == (len(stored), len(stored), len(stored))
        finally:
            await mysql.close_pool(pool)

    asyncio.run(run())
