"""Stock reservation on the products table: conditional decrements, compensating increments.

The catalogue item holds the stock; a line is reserved by ``SET stock = stock - :q`` under the
condition ``stock >= :q``, so concurrent orders can never take more than there is. The same write
returns the product, so the order is priced from the catalogue in the same step.

Every write is recorded on the item under the order's id, so a crash between a stock write and
the order's MySQL transaction can be settled later (``services.orders.reconcile``):

- ``hold_<order id>`` (``{q, at}``), written with the reservation: the units are held for an
  order that may not be committed yet. Removed once the order is stored, or given back (with
  ``ADD stock``, atomically) when the order never was.
- ``rel_<order id>`` (``{q, at}``), written with a cancelled order's release: that release is
  done, so a retry of it is refused by its condition. Removed once MySQL recorded the release.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.kit.dynamo import ConditionalCheckFailed, DynamoClient, from_item, to_item

log = logging.getLogger("services.orders.stock")
HOLD = "hold_"
RELEASED = "rel_"
FORGET_PER_WRITE = 100  # attributes removed by one UpdateItem (keeps the expression small)
# Settled markers of a product wait for the product's next reservation, which removes up to
# FORGET_WITH_TAKE of them in its own write (keeping the expression well under DynamoDB's 4 KB).
# Every FORGET_DELAY_S the markers still waiting are looked at: when the product was reserved
# meanwhile (its next reservation is likely to come soon) and they are fewer than FORGET_WITH_TAKE,
# they wait on; otherwise they are removed together on their own. With the stress mix (100
# products, 150 orders/s) a product is ordered every 0.7 s on average, so nearly every removal
# rides on a reservation (measured with bench/order_cost.py at 150 orders/s for 30 s: removal
# writes, the reconciler's included, 10 -> 5 per 100 orders, most of those after the load ended;
# 23 per 100 before when the stack was saturated). Until removed, a settled marker is inert.
FORGET_DELAY_S = 2.0
FORGET_WITH_TAKE = 50


def _marker(quantity: int) -> dict[str, Any]:
    """A marker's plain value (``to_item`` types it)."""
    return {"q": quantity, "at": Decimal(f"{time.time():.3f}")}


@dataclass(frozen=True)
class Marker:
    """A ``hold_``/``rel_`` attribute found on a product: which order, how many units, since when."""

    product_id: str
    attribute: str
    order_id: str
    quantity: int
    at: float

    @property
    def is_hold(self) -> bool:
        return self.attribute.startswith(HOLD)


@dataclass(frozen=True)
class Reserved:
    product_id: str
    name: str
    quantity: int
    unit_price: Decimal
    currency: str


class ProductMissing(Exception):
    def __init__(self, product_id: str) -> None:
        super().__init__(product_id)
        self.product_id = product_id


def _reserved(product_id: str, quantity: int, item: dict[str, Any]) -> Reserved:
    values = from_item(item)
    return Reserved(
        product_id=product_id,
        name=values.get("name", ""),
        quantity=quantity,
        unit_price=Decimal(values.get("price", 0)),
        currency=values.get("currency", "USD"),
    )


def _succeed(future: asyncio.Future[Reserved], reserved: Reserved) -> None:
    if future.cancelled():
        return
    future.set_result(reserved)


def _fail(future: asyncio.Future[Reserved], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
        future.exception()  # retrieved here: a cancelled waiter leaves no "never retrieved" warning


class StockShort(Exception):
    def __init__(self, product_id: str, available: int) -> None:
        super().__init__(product_id)
        self.product_id = product_id
        self.available = available


class StockLedger:
    """Reservations against the catalogue, coalesced per product.

    Concurrent reservations of one product are combined into one conditional write for their
    sum while a write for that product is in flight (group commit): under load one DynamoDB
    call serves many orders, and DynamoDB stays the only authority on stock. When the combined
    write fails the condition, the waiting reservations are retried one by one, so each gets
    exactly the answer it would have had alone.
    """

    def __init__(self, dynamo: DynamoClient, table: str) -> None:
        self.dynamo = dynamo
        self.table = table
        self._waiting: dict[str, list[tuple[int, str, asyncio.Future[Reserved]]]] = {}
        self._forget: dict[str, set[str]] = {}  # product -> settled marker attributes to remove
        self._reserved_since: set[str] = set()  # products of _forget reserved since their last look
        self._tasks: set[asyncio.Task[None]] = set()
        self.writes = 0  # conditional writes issued (for tests and tuning)

    async def describe(self) -> None:
        await self.dynamo.call("DescribeTable", {"TableName": self.table})

    async def reserve_one(self, product_id: str, quantity: int, order_id: str) -> Reserved:
        future: asyncio.Future[Reserved] = asyncio.get_running_loop().create_future()
        queue = self._waiting.get(product_id)
        if queue is None:
            self._waiting[product_id] = [(quantity, order_id, future)]
            task = asyncio.create_task(self._drain(product_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            queue.append((quantity, order_id, future))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # a reservation nobody waits for is returned
            future.add_done_callback(lambda done: self._give_back_later(done, order_id))
            raise

    def _give_back_later(self, future: asyncio.Future[Reserved], order_id: str) -> None:
        if not future.cancelled() and future.exception() is None:
            reserved = future.result()
            self._background(self.give_back(order_id, [(reserved.product_id, reserved.quantity)]))

    def _background(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self, product_id: str) -> None:
        """Settle batches of ``product_id`` until no reservation of it is waiting."""
        while True:
            batch = self._waiting.get(product_id)
            if not batch:
                self._waiting.pop(product_id, None)
                return
            self._waiting[product_id] = []  # arrivals during this write form the next batch
            await self._settle(product_id, batch)

    async def _settle(self, product_id: str, batch: list[tuple[int, str, asyncio.Future[Reserved]]]) -> None:
        total = sum(quantity for quantity, _, _ in batch)
        try:
            item = await self._take(product_id, total, [(order_id, quantity) for quantity, order_id, _ in batch])
        except ConditionalCheckFailed:
            if len(batch) == 1:
                _fail(batch[0][2], await self._why(product_id))
                return
            for quantity, order_id, future in batch:  # one by one: the first ones may still fit
                try:
                    taken = await self._take(product_id, quantity, [(order_id, quantity)])
                    _succeed(future, _reserved(product_id, quantity, taken))
                except ConditionalCheckFailed:
                    _fail(future, await self._why(product_id))
                except Exception as exc:
                    _fail(future, exc)
            return
        except Exception as exc:
            for _, _, future in batch:
                _fail(future, exc)
            return
        for quantity, _, future in batch:
            _succeed(future, _reserved(product_id, quantity, item))

    async def _take(self, product_id: str, quantity: int, holds: list[tuple[str, int]]) -> dict[str, Any]:
        """Take ``quantity`` units and record a hold per order (``holds``: order id, units) in the same write.

        The same write removes settled markers of this product that wait for removal (``settled``);
        when it fails they wait on."""
        self.writes += 1
        names = {"#stock": "stock", "#pid": "product_id"}
        values: dict[str, Any] = {":q": quantity}
        sets = ["#stock = #stock - :q"]
        for n, (order_id, units) in enumerate(holds):
            names[f"#h{n}"] = HOLD + order_id
            values[f":h{n}"] = _marker(units)
            sets.append(f"#h{n} = :h{n}")
        settled = self._take_settled(product_id, FORGET_WITH_TAKE)
        for n, attribute in enumerate(settled):
            names[f"#f{n}"] = attribute
        expression = "SET " + ", ".join(sets)
        if settled:
            expression += " REMOVE " + ", ".join(f"#f{n}" for n in range(len(settled)))
        try:
            answer = await self.dynamo.call("UpdateItem", {
                "TableName": self.table, "Key": to_item({"product_id": product_id}),
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(#pid) AND #stock >= :q",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": to_item(values),
                "ReturnValues": "ALL_NEW",
            })
        except BaseException:
            self._settle_later(product_id, settled)
            raise
        item: dict[str, Any] = answer["Attributes"]
        return item

    def _take_settled(self, product_id: str, most: int) -> list[str]:
        pending = self._forget.get(product_id)
        if pending is None:
            return []
        self._reserved_since.add(product_id)
        if not pending:
            return []
        return [pending.pop() for _ in range(min(most, len(pending)))]

    async def _why(self, product_id: str) -> Exception:
        current = await self.dynamo.call("GetItem", {
            "TableName": self.table, "Key": to_item({"product_id": product_id}), "ConsistentRead": True,
        })
        item = current.get("Item")
        if item is None:
            return ProductMissing(product_id)
        return StockShort(product_id, int(from_item(item).get("stock", 0)))

    async def reserve(self, lines: list[tuple[str, int]], order_id: str) -> list[Reserved]:
        """Every line or nothing, held for ``order_id``: when one line fails, the lines taken are given back."""
        results = await asyncio.gather(*(self.reserve_one(p, q, order_id) for p, q in lines),
                                       return_exceptions=True)
        taken = [r for r in results if isinstance(r, Reserved)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.give_back(order_id, [(r.product_id, r.quantity) for r in taken])
            raise failures[0]
        return taken

    async def give_back(self, order_id: str, lines: list[tuple[str, int]]) -> None:
        """Undo ``order_id``'s holds: the units return with the hold's removal, so at most once."""

        async def one(product_id: str, quantity: int) -> None:
            try:
                await self.dynamo.call("UpdateItem", {
                    "TableName": self.table, "Key": to_item({"product_id": product_id}),
                    "UpdateExpression": "ADD #stock :q REMOVE #hold",
                    "ConditionExpression": "attribute_exists(#hold)",
                    "ExpressionAttributeNames": {"#stock": "stock", "#hold": HOLD + order_id},
                    "ExpressionAttributeValues": to_item({":q": quantity}),
                })
            except ConditionalCheckFailed:
                log.info("no hold of order %s on product %s (given back already, or the product is gone)",
                         order_id, product_id)

        await _each(one, lines)

    async def restock(self, order_id: str, lines: list[tuple[str, int]]) -> None:
        """Return a cancelled order's units, at most once per product (a ``rel_`` marker records it)."""

        async def one(product_id: str, quantity: int) -> None:
            try:
                await self.dynamo.call("UpdateItem", {
                    "TableName": self.table, "Key": to_item({"product_id": product_id}),
                    "UpdateExpression": "ADD #stock :q SET #rel = :rel",
                    "ConditionExpression": "attribute_exists(#pid) AND attribute_not_exists(#rel)",
                    "ExpressionAttributeNames": {"#stock": "stock", "#pid": "product_id",
                                                 "#rel": RELEASED + order_id},
                    "ExpressionAttributeValues": to_item({":q": quantity, ":rel": _marker(quantity)}),
                })
            except ConditionalCheckFailed:
                log.info("order %s: product %s restocked already or gone", order_id, product_id)

        await _each(one, lines)

    def settled(self, order_id: str, product_ids: list[str], prefix: str = HOLD) -> None:
        """``order_id``'s markers on these products are settled: remove them soon, in batches per product
        (with the product's next reservation, or on their own after ``FORGET_DELAY_S``)."""
        for product_id in product_ids:
            self._settle_later(product_id, [prefix + order_id])

    def removing(self, product_id: str, attribute: str) -> bool:
        """Whether this settled marker is queued for removal here (by a reservation or on its own)."""
        return attribute in self._forget.get(product_id, ())

    def _settle_later(self, product_id: str, attributes: list[str]) -> None:
        if not attributes:
            return
        pending = self._forget.get(product_id)
        if pending is None:
            self._forget[product_id] = set(attributes)
            self._background(self._forget_soon(product_id))
        else:
            pending.update(attributes)

    async def _forget_soon(self, product_id: str) -> None:
        while True:
            await asyncio.sleep(FORGET_DELAY_S)
            reserved = product_id in self._reserved_since
            self._reserved_since.discard(product_id)
            if not reserved or len(self._forget.get(product_id, ())) >= FORGET_WITH_TAKE:
                break
        attributes = sorted(self._forget.pop(product_id, set()))
        try:
            await self.forget(product_id, attributes)
        except Exception as exc:  # the reconciler removes what is left
            log.warning("markers of product %s not removed (%s)", product_id, type(exc).__name__)

    async def forget(self, product_id: str, attributes: list[str]) -> None:
        """Remove settled markers (no condition: removing an absent attribute changes nothing)."""
        for start in range(0, len(attributes), FORGET_PER_WRITE):
            chunk = attributes[start:start + FORGET_PER_WRITE]
            names = {f"#m{n}": name for n, name in enumerate(chunk)}
            names["#pid"] = "product_id"
            try:
                await self.dynamo.call("UpdateItem", {
                    "TableName": self.table, "Key": to_item({"product_id": product_id}),
                    "UpdateExpression": "REMOVE " + ", ".join(k for k in names if k != "#pid"),
                    "ConditionExpression": "attribute_exists(#pid)",
                    "ExpressionAttributeNames": names,
                })
            except ConditionalCheckFailed:
                return  # the product is gone, and its markers with it

    async def markers(self) -> AsyncIterator[Marker]:
        """Every ``hold_``/``rel_`` marker on the catalogue (a scan: for the reconciler only)."""
        start: dict[str, Any] | None = None
        while True:
            payload: dict[str, Any] = {"TableName": self.table}
            if start is not None:
                payload["ExclusiveStartKey"] = start
            answer = await self.dynamo.call("Scan", payload)
            for item in answer.get("Items", []):
                values = from_item(item)
                product_id = str(values["product_id"])
                for name, value in values.items():
                    prefix = HOLD if name.startswith(HOLD) else RELEASED if name.startswith(RELEASED) else None
                    if prefix is None or not isinstance(value, dict):
                        continue
                    yield Marker(product_id, name, name[len(prefix):], int(value["q"]), float(value["at"]))
            start = answer.get("LastEvaluatedKey")
            if not start:
                return


async def _each(one: Any, lines: list[tuple[str, int]]) -> None:
    results = await asyncio.gather(*(one(p, q) for p, q in lines), return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            log.error("stock write failed", exc_info=result)
            raise result
