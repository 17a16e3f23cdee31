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

from services.kit.dynamo import ConditionalCheckFailed, DynamoClient

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


class StockShort(Exception):
    def __init__(self, product_id: str, available: int) -> None:
        super().__init__(product_id)
        self.product_id = product_id
        self.available = available


class StockLedger:
    def __init__(self, dynamo: DynamoClient, table: str) -> None:
        self.dynamo = dynamo
        self.table = table

    async def describe(self) -> None:
        await self.dynamo.call("DescribeTable", {"TableName": self.table})

    async def reserve_one(self, product_id: str, quantity: int) -> Reserved:
        try:
            answer = await self.dynamo.call("UpdateItem", {
                "TableName": self.table, "Key": {"product_id": {"S": product_id}},
                "UpdateExpression": "SET #stock = #stock - :q",
                "ConditionExpression": "attribute_exists(#pid) AND #stock >= :q",
                "ExpressionAttributeNames": {"#stock": "stock", "#pid": "product_id"},
                "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                "ReturnValues": "ALL_NEW",
            })
        except ConditionalCheckFailed:
            current = await self.dynamo.call("GetItem", {
                "TableName": self.table, "Key": {"product_id": {"S": product_id}}, "ConsistentRead": True,
            })
            item = current.get("Item")
            if item is None:
                raise ProductMissing(product_id) from None
            raise StockShort(product_id, int(item.get("stock", {}).get("N", "0"))) from None
        item = answer["Attributes"]
        return Reserved(
            product_id=product_id,
            name=item.get("name", {}).get("S", ""),
            quantity=quantity,
            unit_price=Decimal(item.get("price", {}).get("N", "0")),
            currency=item.get("currency", {}).get("S", "USD"),
        )

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
                    "TableName": self.table, "Key": {"product_id": {"S": product_id}},
                    "UpdateExpression": "ADD #stock :q",
                    "ConditionExpression": "attribute_exists(#pid)",
                    "ExpressionAttributeNames": {"#stock": "stock", "#pid": "product_id"},
                    "ExpressionAttributeValues": {":q": {"N": str(quantity)}},
                })
            except ConditionalCheckFailed:
                log.info("product %s is gone; %d units not returned", product_id, quantity)

        results = await asyncio.gather(*(one(p, q) for p, q in lines), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.error("stock release failed", exc_info=result)
                raise result
