"""The only module that touches the analytics table.

Layout: ``pk=WINDOW sk=<start>`` per window; ``pk=PRODUCT#<start> sk=<product_id>`` and
``pk=USER#<start> sk=<user_id>`` per window and product/user. A result rewrites its key (last write wins).
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.analytics.schemas import ProductResult, Result, UserResult, Window, WindowResult
from services.kit import aws

WINDOW_PK = "WINDOW"


def key_of(result: Result) -> tuple[str, str]:
    if isinstance(result, WindowResult):
        return WINDOW_PK, result.window_start
    if isinstance(result, ProductResult):
        return f"PRODUCT#{result.window_start}", result.product_id
    return f"USER#{result.window_start}", result.user_id


def _window(item: dict[str, Any]) -> Window:
    def n(name: str) -> int:
        return int(item.get(name, {}).get("N", "0"))

    return Window(
        window_start=item["sk"]["S"], window_end=item.get("window_end", {}).get("S", ""),
        orders=n("orders"), units=n("units"), revenue=item.get("revenue", {}).get("S", "0.00"),
        unique_users=n("unique_users"), cancelled_orders=n("cancelled_orders"),
    )


class AnalyticsStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    async def describe(self) -> None:
        await aws.call(self.client.describe_table, TableName=self.table)

    async def put(self, result: Result) -> None:
        pk, sk = key_of(result)
        item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}}
        for name in result.__struct_fields__:
            value = getattr(result, name)
            item[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
        await aws.call(self.client.put_item, TableName=self.table, Item=item)

    async def windows(self, limit: int, before: str | None) -> tuple[list[Window], str | None]:
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": WINDOW_PK}}, "ScanIndexForward": False,
            "Limit": limit,
        }
        if before:
            request["ExclusiveStartKey"] = {"pk": {"S": WINDOW_PK}, "sk": {"S": before}}
        answer = await aws.call(self.client.query, **request)
        last = answer.get("LastEvaluatedKey")
        return [_window(i) for i in answer.get("Items", [])], (last["sk"]["S"] if last else None)

    async def per_window(self, prefix: str, starts: list[str]) -> list[dict[str, Any]]:
        """Every PRODUCT#/USER# item of the given windows."""

        async def one(start: str) -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = []
            request: dict[str, Any] = {
                "TableName": self.table, "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"{prefix}#{start}"}},
            }
            while True:
                answer = await aws.call(self.client.query, **request)
                items.extend(answer.get("Items", []))
                if "LastEvaluatedKey" not in answer:
                    return items
                request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

        batches = await asyncio.gather(*(one(s) for s in starts))
        return [item for batch in batches for item in batch]


__all__ = ["AnalyticsStore", "ProductResult", "UserResult", "key_of"]
