"""Request and response bodies of the orders API."""

from __future__ import annotations

from typing import Annotated

import msgspec

ProductRef = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1000)]
MAX_LINES = 50
MAX_IDEMPOTENCY_KEY = 200  # characters of an Idempotency-Key header


class OrderLineIn(msgspec.Struct):
    product_id: ProductRef
    quantity: Quantity


class OrderCreate(msgspec.Struct):
    """``{"items": [...]}``, or a single line as ``{"product_id", "quantity"}``. Prices sent are ignored."""

    items: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=MAX_LINES)] | None = None
    product_id: ProductRef | None = None
    quantity: Quantity | None = None


class OrderLine(msgspec.Struct):
    product_id: str
    name: str
    quantity: int
    unit_price: str
    line_total: str


class Order(msgspec.Struct):
    id: str
    user_id: str
    status: str
    items: list[OrderLine]
    total: str
    currency: str
    created_at: str
    updated_at: str


class OrderPage(msgspec.Struct):
    items: list[Order]
    next_cursor: str | None
