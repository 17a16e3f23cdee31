"""The stock reconciler: settles what a crash left between DynamoDB's stock and MySQL's orders.

Runs as a background task of the orders process (every ``interval_s``). Each pass:

- finishes the releases of cancelled orders still pending in ``stock_releases`` (older than
  ``grace_s``: the cancelling request normally settles its own);
- for every ``hold_<order>`` marker on the catalogue: the order is stored -> the hold is removed
  (the order owns the units), unless the ledger has it queued for removal already; the order is
  absent and the hold older than ``grace_s`` -> the units are given back (the order never
  committed);
- removes ``rel_<order>`` markers whose release MySQL records as done.

After a pass with no write in flight, per product: units in stock + units in live orders =
units ever stocked. ``grace_s`` must exceed the longest an order's write can take (the MySQL
pool's timeouts bound it far below the default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from services.kit.faults import crash_point
from services.orders.schemas import Order
from services.orders.stock import RELEASED, StockLedger
from services.orders.store import OrderStore

log = logging.getLogger("services.orders.reconcile")


async def release(store: OrderStore, stock: StockLedger, order: Order) -> None:
    """Return a cancelled order's units once: under its ``stock_releases`` row's lock, marked done after."""
    lines = [(i.product_id, i.quantity) for i in order.items]

    async def restock() -> None:
        await stock.restock(order.id, lines)
        crash_point("orders.restocked")

    if await store.settle_release(order.id, restock):
        stock.settled(order.id, [p for p, _ in lines], RELEASED)


@dataclass
class Pass:
    """What one reconciliation pass did."""

    released: int = 0
    holds_kept: int = 0
    holds_given_back: int = 0
    markers_removed: int = 0


class StockReconciler:
    def __init__(self, store: OrderStore, stock: StockLedger, interval_s: float, grace_s: float) -> None:
        self.store = store
        self.stock = stock
        self.interval_s = interval_s
        self.grace_s = grace_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stock-reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                done = await self.run_once()
                if done != Pass():
                    log.info("stock reconciled: %s", done)
            except Exception as exc:
                log.warning("stock reconciliation failed (%s); retrying", type(exc).__name__, exc_info=exc)
            await asyncio.sleep(self.interval_s)

    async def run_once(self) -> Pass:
        done = Pass()
        for order_id in await self.store.pending_releases(self.grace_s):
            order = await self.store.get(order_id)
            if order is not None:
                await release(self.store, self.stock, order)
                done.released += 1
        markers = [m async for m in self.stock.markers()]
        holds = [m for m in markers if m.is_hold]
        stored = await self.store.existing(sorted({m.order_id for m in holds}))
        released = await self.store.released(sorted({m.order_id for m in markers if not m.is_hold}))
        now = time.time()
        forget: dict[str, list[str]] = {}
        for marker in markers:
            if marker.is_hold and marker.order_id in stored:
                done.holds_kept += 1
                if not self.stock.removing(marker.product_id, marker.attribute):  # else the ledger removes it
                    forget.setdefault(marker.product_id, []).append(marker.attribute)
            elif marker.is_hold and now - marker.at > self.grace_s:
                # the hold must still be there when the units return: absent, someone else gave them back
                await self.stock.give_back(marker.order_id, [(marker.product_id, marker.quantity)])
                done.holds_given_back += 1
            elif not marker.is_hold and marker.order_id in released:
                forget.setdefault(marker.product_id, []).append(marker.attribute)
        for product_id, attributes in forget.items():
            await self.stock.forget(product_id, attributes)
            done.markers_removed += len(attributes)
        return done

