"""The only module that touches the analytics table.

Layout: ``pk=WINDOW sk=<start>`` per window; ``pk=PRODUCT#<start> sk=<product_id>`` and
``pk=USER#<start> sk=<user_id>`` per window and product/user. A result rewrites its key (last write wins).
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.analytics.schemas import ProductResult, Result, UserResult, Window, WindowResult
from services.kit.dynamo import DynamoClient, from_item, to_item

WINDOW_PK = "WINDOW"


def key_of(result: Result) -> tuple[str, str]:
    if isinstance(result, WindowResult):
        return WINDOW_PK, result.window_start
    if isinstance(result, ProductResult):
        return f"PRODUCT#{result.window_start}", result.product_id
    return f"USER#{result.window_start}", result.user_id


def _window(item: dict[str, Any]) -> Window:
    values = from_item(item)

    def n(name: str) -> int:
        return int(values.get(name, 0))

    return Window(
        window_start=values["sk"], window_end=values.get("window_end", ""),
        orders=n("orders"), units=n("units"), revenue=values.get("revenue", "0.00"),
        unique_users=n("unique_users"), cancelled_orders=n("cancelled_orders"),
    )


class AnalyticsStore:
    def __init__(self, dynamo: DynamoClient, table: str) -> None:
        self.dynamo = dynamo
        self.table = table

    async def describe(self) -> None:
        await self.dynamo.call("DescribeTable", {"TableName": self.table})

    async def put(self, result: Result) -> None:
        pk, sk = key_of(result)
        values: dict[str, Any] = {"pk": pk, "sk": sk}
        for name in result.__struct_fields__:
            value = getattr(result, name)
            values[name] = value if isinstance(value, int) else str(value)
        await self.dynamo.call("PutItem", {"TableName": self.table, "Item": to_item(values)})

    async def windows(self, limit: int, before: str | None) -> tuple[list[Window], str | None]:
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": WINDOW_PK}), "ScanIndexForward": False,
            "Limit": limit,
        }
        if before:
            request["ExclusiveStartKey"] = to_item({"pk": WINDOW_PK, "sk": before})
        answer = await self.dynamo.call("Query", request)
        last = answer.get("LastEvaluatedKey")
        return [_window(i) for i in answer.get("Items", [])], (from_item(last)["sk"] if last else None)

    async def per_window(self, prefix: str, starts: list[str]) -> list[dict[str, Any]]:
        """Every PRODUCT#/USER# item of the given windows (plain values)."""

        async def one(start: str) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            request: dict[str, Any] = {
                "TableName": self.table, "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": to_item({":pk": f"{prefix}#{start}"}),
            }
            while True:
                answer = await self.dynamo.call("Query", request)
                items.extend(from_item(i) for i in answer.get("Items", []))
                if "LastEvaluatedKey" not in answer:
                    return items
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

        batches = await asyncio.gather(*(one(s) for s in starts))
        return [item for batch in batches for item in batch]


__all__ = ["AnalyticsStore", "ProductResult", "UserResult", "key_of"]
