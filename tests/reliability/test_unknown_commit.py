"""An order whose commit the database did not confirm keeps its stock until its outcome is known.

Found by stopping MariaDB under load (test_faults.py): the server committed an order and closed the
connection before its reply reached the orders service, which answered 503 and gave the units back,
so the stored order held units the stock counted again. Here an in-process orders service writes
through a store that commits for real and then raises what a lost connection raises (or raises
without committing); the real MySQL and DynamoDB then show whether stock and orders agree.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from asyncmy.errors import OperationalError
from asyncmy.pool import Pool

from ecomctl.local.platform import LocalPlatform
from services.kit import mysql
from services.kit.auth import Caller
from services.kit.dynamo import DynamoClient
from services.kit.errors import Unavailable
from services.orders.schemas import OrderCreate
from services.orders.service import OrderCounters, OrderService
from services.orders.settings import Settings
from services.orders.stock import StockLedger
from services.orders.store import NewOrder, OrderStore
from tests.reliability.test_faults import _live_units
from tests.services.conftest import Account, product_item, stock_of
from tests.services.events import Count

pytestmark = [pytest.mark.platform, pytest.mark.slow]
STOCKED = 10


class LostReply(OrderStore):
    """Writes like the real store (or not at all), then fails as when the reply to COMMIT was lost."""

    def __init__(self, pool: Pool, commits: bool) -> None:
        super().__init__(pool)
        self.commits = commits

    async def insert_many(self, batch: Sequence[NewOrder]) -> None:
        if self.commits:
            await super().insert_many(batch)
        raise OperationalError(2013, "Lost connection to MySQL server during query")


def _place(platform: LocalPlatform, user: Account, product_id: str, commits: bool) -> Unavailable:
    """Places a 3-unit order through the lossy store; its 503, once the product holds no unit for it."""
    settings = Settings.from_env(platform.service_env("orders"))

    async def place() -> Unavailable:
        pool = await mysql.create_pool(settings.mysql)
        stock = StockLedger(DynamoClient(settings.aws.region), settings.table_products)
        counters = OrderCounters(Count(), Count(), Count(), Count())
        service = OrderService(LostReply(pool, commits), stock, settings.topic_orders_events, lambda: None, counters)
        try:
            with pytest.raises(Unavailable) as raised:
                await service.create(Caller(user.id, user.email, "user"),
                                     OrderCreate(product_id=product_id, quantity=3), None)
            deadline = time.monotonic() + 20
            while any(k.startswith("hold_") for k in product_item(platform, product_id)):
                assert time.monotonic() < deadline, "the hold was not settled"
                await asyncio.sleep(0.2)
            return raised.value
        finally:
            await mysql.close_pool(pool)
            await stock.dynamo.close()

    return asyncio.run(place())


@pytest.mark.parametrize("commits", [True, False], ids=["committed", "not-committed"])
def test_an_unconfirmed_commit_keeps_stock_and_orders_in_agreement(
    commits: bool, platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]],
    aws_environ: Callable[[str], dict[str, str]],
) -> None:
    aws_environ("orders")
    product_id = new_product(stock=STOCKED)["product_id"]
    refused = _place(platform, user, product_id, commits)
    assert _live_units(platform, product_id) == (3 if commits else 0)
    assert stock_of(platform, product_id) + _live_units(platform, product_id) == STOCKED
    assert sorted(k for k in product_item(platform, product_id) if k.startswith(("hold_", "rel_"))) == []
    assert refused.extra["order_id"]  # the client can ask for it (the same Idempotency-Key returns it)
