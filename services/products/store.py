"""The only module that touches the products table (the kit's DynamoDB client, typed attributes)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from services.kit.dynamo import ConditionalCheckFailed, DynamoClient
from services.kit.dynamo import from_item as from_attributes
from services.kit.dynamo import to_item as to_attributes
from services.kit.events import money
from services.products.schemas import Product

Item = dict[str, dict[str, Any]]
Key = dict[str, str]  # a continuation key: product_id (and category on the category index)
SCAN_CHUNK = 100
MAX_CHUNKS = 10  # chunks one page request reads at most (a search matching little pages on)
CATEGORY_INDEX = "by-category"


def to_item(product: Product) -> Item:
    return to_attributes({
        "product_id": product.product_id, "name": product.name, "description": product.description,
        "price": Decimal(product.price), "currency": product.currency, "stock": product.stock,
        "category": product.category, "created_at": product.created_at, "updated_at": product.updated_at,
        "search": f"{product.name}\n{product.description}".lower(),
    })


def from_item(item: Item) -> Product:
    values = from_attributes(item)
    return Product(
        product_id=values["product_id"],
        name=values.get("name", ""),
        description=values.get("description", ""),
        price=money(str(values.get("price", "0"))),
        currency=values.get("currency", "USD"),
        stock=int(values.get("stock", 0)),
        category=values.get("category", ""),
        created_at=values.get("created_at", ""),
        updated_at=values.get("updated_at", ""),
    )


class ProductStore:
    def __init__(self, dynamo: DynamoClient, table: str) -> None:
        self.dynamo = dynamo
        self.table = table

    async def describe(self) -> None:
        await self.dynamo.call("DescribeTable", {"TableName": self.table})

    async def get(self, product_id: str) -> Product | None:
        answer = await self.dynamo.call("GetItem", {
            "TableName": self.table, "Key": to_attributes({"product_id": product_id}), "ConsistentRead": True,
        })
        item = answer.get("Item")
        return None if item is None else from_item(item)

    async def put_new(self, product: Product) -> None:
        await self.dynamo.call("PutItem", {
            "TableName": self.table, "Item": to_item(product),
            "ConditionExpression": "attribute_not_exists(product_id)",
        })

    async def replace(self, product: Product) -> bool:
        """Overwrite an existing product; False when it no longer exists."""
        try:
            await self.dynamo.call("PutItem", {
                "TableName": self.table, "Item": to_item(product),
                "ConditionExpression": "attribute_exists(product_id)",
            })
        except ConditionalCheckFailed:
            return False
        return True

    async def update_fields(self, product: Product, stock_changed: bool) -> bool:
        """Write the descriptive fields (and the stock only if the admin set it); False if gone."""
        item = to_item(product)
        names = ["name", "description", "price", "category", "updated_at", "search"]
        if stock_changed:
            names.append("stock")
        expression = "SET " + ", ".join(f"#{n} = :{n}" for n in names)
        try:
            await self.dynamo.call("UpdateItem", {
                "TableName": self.table, "Key": {"product_id": item["product_id"]},
                "UpdateExpression": expression,
                "ConditionExpression": "attribute_exists(product_id)",
                "ExpressionAttributeNames": {f"#{n}": n for n in names},
                "ExpressionAttributeValues": {f":{n}": item[n] for n in names},
            })
        except ConditionalCheckFailed:
            return False
        return True

    async def delete(self, product_id: str) -> bool:
        try:
            await self.dynamo.call("DeleteItem", {
                "TableName": self.table, "Key": to_attributes({"product_id": product_id}),
                "ConditionExpression": "attribute_exists(product_id)",
            })
        except ConditionalCheckFailed:
            return False
        return True

    async def page(
        self, limit: int, start: Key | None, text: str | None, category: str | None
    ) -> tuple[list[Product], Key | None]:
        """Up to ``limit`` matching products after ``start``, and the key to continue from.

        Reads chunk after chunk until the page is full, the table ends or ``MAX_CHUNKS`` chunks were
        read (a search matching little stops there with a short page and the key to go on from, so
        one request never scans the whole table); when a chunk has more matches than needed the
        continuation key is the last product returned (not the chunk's end), so no match is skipped.
        """
        found: list[Product] = []
        position = to_attributes(start) if start else None
        for _ in range(MAX_CHUNKS):
            request: dict[str, Any] = {"TableName": self.table, "Limit": SCAN_CHUNK}
            if position:
                request["ExclusiveStartKey"] = position
            names: dict[str, str] = {}
            values: dict[str, str] = {}
            if text:
                request["FilterExpression"] = "contains(#search, :text)"
                names["#search"], values[":text"] = "search", text
            if category:
                request["IndexName"] = CATEGORY_INDEX
                request["KeyConditionExpression"] = "#category = :category"
                names["#category"], values[":category"] = "category", category
            if names:
                request["ExpressionAttributeNames"] = names
                request["ExpressionAttributeValues"] = to_attributes(values)
            answer = await self.dynamo.call("Query" if category else "Scan", request)
            items = [from_item(i) for i in answer.get("Items", [])]
            room = limit - len(found)
            if len(items) > room:
                found.extend(items[:room])
                return found, self._key_of(found[-1], category)
            found.extend(items)
            position = answer.get("LastEvaluatedKey")
            if not position:
                return found, None
            if len(found) == limit:  # exactly full: continue after the last returned product
                return found, self._key_of(found[-1], category)
        # the chunk budget is spent: go on from where the reads stopped
        return found, None if position is None else {k: str(v) for k, v in from_attributes(position).items()}

    @staticmethod
    def _key_of(product: Product, category: str | None) -> Key:
        key = {"product_id": product.product_id}
        if category:
            key["category"] = product.category
        return key
