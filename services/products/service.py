"""Catalogue rules: who may write, how pages and searches work, a short read cache.

The cache serves anonymous reads. A signed-in reader reads the table (and refreshes the cache):
their own orders change stock, and they see those changes at once (read-your-writes); the
gateway forwards signed-in requests uncached too.
"""

from __future__ import annotations

import uuid

import msgspec

from services.kit.auth import Caller, require_admin
from services.kit.cache import Cache
from services.kit.errors import Invalid, NotFound
from services.kit.events import money, rfc3339, utc_now
from services.kit.pagination import decode_cursor, encode_cursor
from services.products.schemas import Product, ProductCreate, ProductPage, ProductUpdate
from services.products.store import Key, ProductStore

CURRENCY = "USD"
CACHE_BYTES = 16 * 1024 * 1024  # per cache (single products, pages)
_encode = msgspec.json.Encoder().encode


def _size(value: Product | ProductPage) -> int:
    return len(_encode(value))


def _positive_money(price: str) -> str:
    value = money(price)
    if value == "0.00":
        raise Invalid("the price must be positive")
    return value


class ProductService:
    def __init__(self, store: ProductStore, cache_ttl_s: float) -> None:
        self.store = store
        self.products: Cache[Product] = Cache(cache_ttl_s, CACHE_BYTES, _size)
        self.pages: Cache[ProductPage] = Cache(cache_ttl_s, CACHE_BYTES, _size)

    async def get(self, product_id: str, fresh: bool = False) -> Product:
        async def load() -> Product:
            product = await self.store.get(product_id)
            if product is None:
                raise NotFound("no such product")
            return product

        if fresh:
            return await self.products.refresh(product_id, load)
        return await self.products.get_or_load(product_id, load)

    async def page(
        self, limit: int, cursor: str | None, q: str | None, category: str | None, fresh: bool = False
    ) -> ProductPage:
        start = self._start_key(cursor, category)
        text = q.strip().lower() if q and q.strip() else None

        async def load() -> ProductPage:
            products, next_key = await self.store.page(limit, start, text, category)
            next_cursor = None if next_key is None else encode_cursor(dict(next_key))
            return ProductPage(items=products, next_cursor=next_cursor)

        key = (limit, cursor, text, category)
        if fresh:
            return await self.pages.refresh(key, load)
        return await self.pages.get_or_load(key, load)

    @staticmethod
    def _start_key(cursor: str | None, category: str | None) -> Key | None:
        position = decode_cursor(cursor)
        if position is None:
            return None
        product_id = position.get("product_id")
        if not isinstance(product_id, str) or not product_id or len(product_id) > 64:
            raise Invalid("the cursor is not valid")
        key: Key = {"product_id": product_id}
        if category:
            if position.get("category") != category:
                raise Invalid("the cursor belongs to another listing")
            key["category"] = category
        return key

    async def create(self, caller: Caller, data: ProductCreate) -> Product:
        require_admin(caller)
        now = rfc3339(utc_now())
        product = Product(
            product_id=uuid.uuid4().hex, name=data.name, description=data.description,
            price=_positive_money(data.price), currency=CURRENCY, stock=data.stock,
            category=data.category, created_at=now, updated_at=now,
        )
        await self.store.put_new(product)
        self._forget()
        return product

    async def update(self, caller: Caller, product_id: str, data: ProductUpdate) -> Product:
        require_admin(caller)
        current = await self.store.get(product_id)
        if current is None:
            raise NotFound("no such product")
        fields = data.__struct_fields__
        changes = {f: getattr(data, f) for f in fields if getattr(data, f) is not msgspec.UNSET}
        if "price" in changes:
            changes["price"] = _positive_money(changes["price"])
        updated = msgspec.structs.replace(current, **changes, updated_at=rfc3339(utc_now()))
        if not await self.store.update_fields(updated, stock_changed="stock" in changes):
            raise NotFound("no such product")
        self._forget()
        fresh = await self.store.get(product_id)
        if fresh is None:
            raise NotFound("no such product")
        return fresh

    async def delete(self, caller: Caller, product_id: str) -> None:
        require_admin(caller)
        if not await self.store.delete(product_id):
            raise NotFound("no such product")
        self._forget()

    def _forget(self) -> None:
        self.products.clear()
        self.pages.clear()
