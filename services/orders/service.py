"""Order rules: pricing from the catalogue, reservation, ownership, idempotency, cancellation."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from asyncmy.errors import IntegrityError, InterfaceError, OperationalError

from services.kit.auth import Caller
from services.kit.errors import Conflict, Invalid, NotFound, Unavailable
from services.kit.events import (
    ORDER_CANCELLED,
    ORDER_CREATED,
    EventItem,
    OrderEvent,
    money,
    rfc3339,
    utc_now,
)
from services.kit.faults import crash_point
from services.kit.pagination import decode_cursor, encode_cursor
from services.orders.commits import GroupCommit
from services.orders.reconcile import release
from services.orders.schemas import Order, OrderCreate, OrderLine, OrderPage
from services.orders.stock import ProductMissing, Reserved, StockLedger, StockShort
from services.orders.store import NewOrder, OrderStore

log = logging.getLogger("services.orders")
CONNECTION_FAILURES = (OperationalError, InterfaceError, OSError)  # a whole group commit failed, not one order
# While orders keep coming, an order's write waits this long for others to share its transaction.
# bench/order_cost.py at 150 orders/s, two paired runs each (0 / 5 / 10 ms): orders per transaction
# 1.0 / 1.1 / 1.9, MariaDB statements per order 4.6 / 4.1 / 2.6, CPU per order relative to the load
# generator's: MariaDB -15%, orders -5% at 10 ms; order latency p50 4 -> 14 ms, p95 13 -> 21-25 ms.
# 30 ms (with the relay's BATCH_EVERY_S at 150 ms), two paired runs against 10 ms (with 50 ms), CPU
# ms per order: orders 1.26-1.33 -> 1.09, MariaDB 0.33-0.34 -> 0.22, the whole stack 4.37-4.68 ->
# 4.08-4.10; order p95 20 -> 38 ms, far inside the 150 ms the stress profile allows.
COMMIT_LINGER_S = 0.03


@dataclass
class OrderCounters:
    created: Any
    cancelled: Any
    revenue: Any
    rejected: Any


def requested_lines(data: OrderCreate) -> list[tuple[str, int]]:
    """(product_id, quantity) per product, in first-seen order; duplicates are added up."""
    if data.items is not None:
        if data.product_id is not None or data.quantity is not None:
            raise Invalid("send either items or a single product_id/quantity, not both")
        raw = [(line.product_id, line.quantity) for line in data.items]
    elif data.product_id is not None and data.quantity is not None:
        raw = [(data.product_id, data.quantity)]
    else:
        raise Invalid("an order needs items: [{product_id, quantity}]")
    merged: dict[str, int] = {}
    for product_id, quantity in raw:
        merged[product_id] = merged.get(product_id, 0) + quantity
    if any(q > 1000 for q in merged.values()):
        raise Invalid("at most 1000 units of one product per order")
    return list(merged.items())


def fingerprint(lines: list[tuple[str, int]]) -> str:
    """What an order request asks for, as compared when its Idempotency-Key comes again."""
    return hashlib.sha256(json.dumps(lines, separators=(",", ":")).encode()).hexdigest()


def event_of(order: Order, kind: str, occurred_at: str) -> OrderEvent:
    return OrderEvent(
        event_id=uuid.uuid4().hex, type=kind, occurred_at=occurred_at,  # type: ignore[arg-type]
        order_id=order.id, user_id=order.user_id,
        items=[EventItem(product_id=i.product_id, quantity=i.quantity, unit_price=i.unit_price)
               for i in order.items],
        total=order.total, currency=order.currency,
    )


class OrderService:
    def __init__(self, store: OrderStore, stock: StockLedger, topic: str,
                 committed: Callable[[], None], counters: OrderCounters) -> None:
        self.store = store
        self.stock = stock
        self.topic = topic
        self.committed = committed
        self.counters = counters
        self.writes = GroupCommit(store.insert_many, shared_failures=CONNECTION_FAILURES, linger_s=COMMIT_LINGER_S)
        self._tasks: set[asyncio.Future[Any]] = set()  # writes whose caller went away, unconfirmed commits

    async def create(self, caller: Caller, data: OrderCreate, idempotency_key: str | None) -> Order:
        lines = requested_lines(data)
        request_hash = fingerprint(lines)
        if idempotency_key is not None:
            earlier = await self._earlier(caller, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        order_id = uuid.uuid4().hex
        try:
            reserved = await self.stock.reserve(lines, order_id)
        except ProductMissing as exc:
            self.counters.rejected.labels("unknown_product").inc()
            raise NotFound(f"no such product: {exc.product_id}") from None
        except StockShort as exc:
            self.counters.rejected.labels("out_of_stock").inc()
            raise Conflict(
                f"not enough stock for product {exc.product_id}",
                extra={"product_id": exc.product_id, "available": exc.available},
            ) from None
        crash_point("orders.reserved")
        now = utc_now()
        order = self._priced(order_id, caller, reserved, rfc3339(now))
        new = NewOrder(order, now, idempotency_key, self.topic, event_of(order, ORDER_CREATED, order.created_at),
                       request_hash)
        # Shielded: a caller that goes away mid-write leaves either a stored order or released stock.
        stored = asyncio.ensure_future(self._store(new, reserved))
        try:
            error = await asyncio.shield(stored)
        except asyncio.CancelledError:
            self._tasks.add(stored)
            stored.add_done_callback(self._tasks.discard)
            raise
        if error is None:
            return order
        if isinstance(error, IntegrityError) and idempotency_key is not None:
            earlier = await self._earlier(caller, idempotency_key, request_hash)
            if earlier is not None:
                return earlier
        if isinstance(error, CONNECTION_FAILURES):
            log.warning("order %s: the database did not confirm it (%s)", order_id, type(error).__name__)
            raise Unavailable("the database did not confirm the order; the same request with the same "
                              "Idempotency-Key returns it if it was stored", extra={"order_id": order_id}) from error
        log.warning("order not stored, stock released (%s)", type(error).__name__)
        raise Unavailable("the order could not be stored; nothing was charged or reserved") from error

    async def _earlier(self, caller: Caller, idempotency_key: str, request_hash: str) -> Order | None:
        """The order first placed with this key; 409 when that key came with another request."""
        found = await self.store.by_idempotency_key(caller.user_id, idempotency_key)
        if found is None:
            return None
        earlier, earlier_hash = found
        if earlier_hash is not None and earlier_hash != request_hash:
            raise Conflict("this Idempotency-Key was used for a different order request",
                           extra={"order_id": earlier.id})
        return earlier

    async def _store(self, new: NewOrder, reserved: list[Reserved]) -> Exception | None:
        """Write ``new`` (in a group commit); when that fails, give its stock back and return the error.

        A lost connection leaves the commit's outcome unknown (the server may have committed before the
        reply was lost): the stock stays held until ``_settle_unknown`` has learnt the outcome."""
        try:
            await self.writes.write(new)
        except CONNECTION_FAILURES as exc:
            task = asyncio.ensure_future(self._settle_unknown(new, reserved))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return exc
        except BaseException as exc:
            await self.stock.give_back(new.order.id, [(r.product_id, r.quantity) for r in reserved])
            if isinstance(exc, Exception):
                return exc
            raise
        crash_point("orders.stored")
        self._stored(new, reserved)
        return None

    async def _settle_unknown(self, new: NewOrder, reserved: list[Reserved], every_s: float = 1.0,
                              tries: int = 60) -> None:
        """Once the database answers: the order stored -> drop its holds; absent -> give its stock back.

        Still unknown after ``tries``: the reconciler settles the holds (after its grace)."""
        for _ in range(tries):
            try:
                stored = await self.store.stored(new.order.id)
            except CONNECTION_FAILURES:
                await asyncio.sleep(every_s)
                continue
            log.info("order %s: %s after an unconfirmed commit", new.order.id,
                     "stored" if stored else "not stored, its stock given back")
            if stored:
                self._stored(new, reserved)
                return
            try:
                await self.stock.give_back(new.order.id, [(r.product_id, r.quantity) for r in reserved])
            except Exception as exc:  # DynamoDB down too: the reconciler gives the units back later
                log.warning("order %s: stock not given back yet (%s)", new.order.id, type(exc).__name__)
            return
        log.warning("order %s: outcome still unknown; the reconciler settles its stock", new.order.id)

    def _stored(self, new: NewOrder, reserved: list[Reserved]) -> None:
        self.stock.settled(new.order.id, [r.product_id for r in reserved])
        self.committed()
        self.counters.created.inc()
        self.counters.revenue.inc(float(Decimal(new.order.total)))

    @staticmethod
    def _priced(order_id: str, caller: Caller, reserved: list[Reserved], created_at: str) -> Order:
        items = [
            OrderLine(product_id=r.product_id, name=r.name, quantity=r.quantity,
                      unit_price=money(r.unit_price), line_total=money(r.unit_price * r.quantity))
            for r in reserved
        ]
        total = sum((Decimal(i.line_total) for i in items), Decimal("0"))
        currency = reserved[0].currency if reserved else "USD"
        return Order(id=order_id, user_id=caller.user_id, status="created", items=items,
                     total=money(total), currency=currency, created_at=created_at, updated_at=created_at)

    async def get(self, caller: Caller, order_id: str) -> Order:
        order = await self.store.get(order_id)
        if order is None or (order.user_id != caller.user_id and not caller.is_admin):
            raise NotFound("no such order")
        return order

    async def page(self, caller: Caller, limit: int, cursor: str | None, user_id: str | None) -> OrderPage:
        position = decode_cursor(cursor)
        before = position.get("seq") if position else None
        if position is not None and not isinstance(before, int):
            raise Invalid("the cursor is not valid")
        owner = (user_id if caller.is_admin else caller.user_id)
        orders, next_seq = await self.store.page(owner, before, limit)
        return OrderPage(items=orders, next_cursor=None if next_seq is None else encode_cursor({"seq": next_seq}))

    async def cancel(self, caller: Caller, order_id: str) -> Order:
        await self.get(caller, order_id)  # 404 for someone else's order
        now = utc_now()
        outcome, order = await self.store.cancel(
            order_id, now, self.topic, lambda o: event_of(o, ORDER_CANCELLED, rfc3339(now))
        )
        if outcome == "missing" or order is None:
            raise NotFound("no such order")
        if outcome == "not-cancellable":
            raise Conflict(f"the order is {order.status} and cannot be cancelled")
        self.committed()
        crash_point("orders.cancelled")
        await release(self.store, self.stock, order)
        self.counters.cancelled.inc()
        return order
