"""The only module that touches the products table (low-level DynamoDB client, typed attributes)."""

from __future__ import annotations

from typing import Any

from services.kit import aws
from services.kit.events import money
from services.products.schemas import Product

Item = dict[str, dict[str, Any]]
SCAN_CHUNK = 100
MAX_CHUNKS = 10  # chunks one page request reads at most (a search matching little pages on)
CATEGORY_INDEX = "by-category"


def to_item(product: Product) -> Item:
    return {
        "product_id": {"S": product.product_id},
        "name": {"S": product.name},
        "description": {"S": product.description},
        "price": {"N": product.price},
        "currency": {"S": product.currency},
        "stock": {"N": str(product.stock)},
        "category": {"S": product.category},
        "created_at": {"S": product.created_at},
        "updated_at": {"S": product.updated_at},
        "search": {"S": f"{product.name}\n{product.description}".lower()},
    }


def from_item(item: Item) -> Product:
    return Product(
        product_id=item["product_id"]["S"],
        name=item.get("name", {}).get("S", ""),
        description=item.get("description", {}).get("S", ""),
        price=money(item.get("price", {}).get("N", "0")),
        currency=item.get("currency", {}).get("S", "USD"),
        stock=int(item.get("stock", {}).get("N", "0")),
        category=item.get("category", {}).get("S", ""),
        created_at=item.get("created_at", {}).get("S", ""),
        updated_at=item.get("updated_at", {}).get("S", ""),
    )


class ProductStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    async def describe(self) -> None:
        await aws.call(self.client.describe_table, TableName=self.table)

    async def get(self, product_id: str) -> Product | None:
        answer = await aws.call(
            self.client.get_item, TableName=self.table, Key={"product_id": {"S": product_id}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return None if item is None else from_item(item)

    async def put_new(self, product: Product) -> None:
        await aws.call(
            self.client.put_item, TableName=self.table, Item=to_item(product),
            ConditionExpression="attribute_not_exists(product_id)",
        )

    async def replace(self, product: Product) -> bool:
        """Overwrite an existing product; False when it no longer exists."""
        try:
            await aws.call(
                self.client.put_item, TableName=self.table, Item=to_item(product),
                ConditionExpression="attribute_exists(product_id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
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
            await aws.call(
                self.client.update_item, TableName=self.table, Key={"product_id": item["product_id"]},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(product_id)",
                ExpressionAttributeNames={f"#{n}": n for n in names},
                ExpressionAttributeValues={f":{n}": item[n] for n in names},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    async def delete(self, product_id: str) -> bool:
        try:
            await aws.call(
                self.client.delete_item, TableName=self.table, Key={"product_id": {"S": product_id}},
                ConditionExpression="attribute_exists(product_id)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    async def page(
        self, limit: int, start: Item | None, text: str | None, category: str | None
    ) -> tuple[list[Product], Item | None]:
        """Up to ``limit`` matching products after ``start``, and the key to continue from.

        Reads chunk after chunk until the page is full, the table ends or ``MAX_CHUNKS`` chunks were
        read (a search matching little stops there with a short page and the key to go on from, so
        one request never scans the whole table); when a chunk has more matches than needed the
        continuation key is the last product returned (not the chunk's end), so no match is skipped.
        """
        found: list[Item] = []
        position = start
        for _ in range(MAX_CHUNKS):
            request: dict[str, Any] = {"TableName": self.table, "Limit": SCAN_CHUNK}
            if position:
                request["ExclusiveStartKey"] = position
            if text:
                request["FilterExpression"] = "contains(#search, :text)"
                request["ExpressionAttributeNames"] = {"#search": "search"}
                request["ExpressionAttributeValues"] = {":text": {"S": text}}
            if category:
                request["IndexName"] = CATEGORY_INDEX
                request["KeyConditionExpression"] = "#category = :category"
                request.setdefault("ExpressionAttributeNames", {})["#category"] = "category"
                request.setdefault("ExpressionAttributeValues", {})[":category"] = {"S": category}
                answer = await aws.call(self.client.query, **request)
            else:
                answer = await aws.call(self.client.scan, **request)
            items: list[Item] = answer.get("Items", [])
            room = limit - len(found)
            if len(items) > room:
                found.extend(items[:room])
                return [from_item(i) for i in found], self._key_of(found[-1], category)
            found.extend(items)
            position = answer.get("LastEvaluatedKey")
            if not position:
                return [from_item(i) for i in found], None
            if len(found) == limit:  # exactly full: continue after the last returned product
                return [from_item(i) for i in found], self._key_of(found[-1], category)
        return [from_item(i) for i in found], position  # the chunk budget is spent: go on from here

    @staticmethod
    def _key_of(item: Item, category: str | None) -> Item:
        key: Item = {"product_id": item["product_id"]}
        if category:
            key["category"] = item["category"]
        return key
