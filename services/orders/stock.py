"""Stock reservation on the products table: conditional decrements, compensating increments.

The catalogue item holds the stock; a line is reserved by ``SET stock = stock - :q`` under the
condition ``stock >= :q``, so concurrent orders can never take more than there is. The same write
returns the product, so the order is priced from the catalogue in the same step.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.kit.dynamo import ConditionalCheckFailed, DynamoClient, from_item, to_item

log = logging.getLogger("services.orders.stock")


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
        self._waiting: dict[str, list[tuple[int, asyncio.Future[Reserved]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.writes = 0  # conditional writes issued (for tests and tuning)

    async def describe(self) -> None:
        await self.dynamo.call("DescribeTable", {"TableName": self.table})

    async def reserve_one(self, product_id: str, quantity: int) -> Reserved:
        future: asyncio.Future[Reserved] = asyncio.get_running_loop().create_future()
        queue = self._waiting.get(product_id)
        if queue is None:
            self._waiting[product_id] = [(quantity, future)]
            task = asyncio.create_task(self._drain(product_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            queue.append((quantity, future))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(self._give_back)  # a reservation nobody waits for is returned
            raise

    def _give_back(self, future: asyncio.Future[Reserved]) -> None:
        if not future.cancelled() and future.exception() is None:
            reserved = future.result()
            task = asyncio.create_task(self.release([(reserved.product_id, reserved.quantity)]))
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

    async def _settle(self, product_id: str, batch: list[tuple[int, asyncio.Future[Reserved]]]) -> None:
        total = sum(quantity for quantity, _ in batch)
        try:
            item = await self._take(product_id, total)
        except ConditionalCheckFailed:
            if len(batch) == 1:
                _fail(batch[0][1], await self._why(product_id))
                return
            for quantity, future in batch:  # one by one: the first ones may still fit
                try:
                    _succeed(future, _reserved(product_id, quantity, await self._take(product_id, quantity)))
                except ConditionalCheckFailed:
                    _fail(future, await self._why(product_id))
                except Exception as exc:
                    _fail(future, exc)
            return
        except Exception as exc:
            for _, future in batch:
                _fail(future, exc)
            return
        for quantity, future in batch:
            _succeed(future, _reserved(product_id, quantity, item))

    async def _take(self, product_id: str, quantity: int) -> dict[str, Any]:
        self.writes += 1
        answer = await self.dynamo.call("UpdateItem", {
            "TableName": self.table, "Key": to_item({"product_id": product_id}),
            "UpdateExpression": "SET #stock = #stock - :q",
            "ConditionExpression": "attribute_exists(#pid) AND #stock >= :q",
            "ExpressionAttributeNames": {"#stock": "stock", "#pid": "product_id"},
            "ExpressionAttributeValues": to_item({":q": quantity}),
            "ReturnValues": "ALL_NEW",
        })
        item: dict[str, Any] = answer["Attributes"]
        return item

    async def _why(self, product_id: str) -> Exception:
        current = await self.dynamo.call("GetItem", {
            "TableName": self.table, "Key": to_item({"product_id": product_id}), "ConsistentRead": True,
        })
        item = current.get("Item")
        if item is None:
            return ProductMissing(product_id)
        return StockShort(product_id, int(from_item(item).get("stock", 0)))

    async def reserve(self, lines: list[tuple[str, int]]) -> list[Reserved]:
        """Every line or nothing: when one line fails, the lines already taken are given back."""
        results = await asyncio.gather(*(self.reserve_one(p, q) for p, q in lines), return_exceptions=True)
        taken = [r for r in results if isinstance(r, Reserved)]
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self.release([(r.product_id, r.quantity) for r in taken])
            raise failures[0]
        return taken

    async def release(self, lines: list[tuple[str, int]]) -> None:
        """Give stock back (the product may have been deleted meanwhile: then nothing to give back)."""

        async def one(product_id: str, quantity: int) -> None:
            try:
                await self.dynamo.call("UpdateItem", {
                    "TableName": self.table, "Key": to_item({"product_id": product_id}),
                    "UpdateExpression": "ADD #stock :q",
                    "ConditionExpression": "attribute_exists(#pid)",
                    "ExpressionAttributeNames": {"#stock": "stock", "#pid": "product_id"},
                    "ExpressionAttributeValues": to_item({":q": quantity}),
                })
            except ConditionalCheckFailed:
                log.info("product %s is gone; %d units not returned", product_id, quantity)

        results = await asyncio.gather(*(one(p, q) for p, q in lines), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.error("stock release failed", exc_info=result)
                raise result
