"""The stream job's result messages (input) and the analytics API bodies (output)."""

from __future__ import annotations

from typing import Literal

import msgspec


class WindowResult(msgspec.Struct, tag_field="kind", tag="window"):
    window_start: str
    window_end: str
    orders: int
    units: int
    revenue: str
    unique_users: int = 0
    cancelled_orders: int = 0


class ProductResult(msgspec.Struct, tag_field="kind", tag="product"):
    window_start: str
    window_end: str
    product_id: str
    units: int
    revenue: str


class UserResult(msgspec.Struct, tag_field="kind", tag="user"):
    window_start: str
    window_end: str
    user_id: str
    orders: int
    revenue: str


Result = WindowResult | ProductResult | UserResult


class Window(msgspec.Struct):
    window_start: str
    window_end: str
    orders: int
    units: int
    revenue: str
    unique_users: int
    cancelled_orders: int


class WindowPage(msgspec.Struct):
    items: list[Window]
    next_cursor: str | None


class Totals(msgspec.Struct):
    windows: int
    orders: int
    units: int
    revenue: str
    cancelled_orders: int


class Summary(msgspec.Struct):
    window_seconds: int
    recent: Totals
    latest: Window | None
    lag_seconds: float | None
    status: Literal["ok", "stale", "empty"]


class TopProduct(msgspec.Struct):
    product_id: str
    units: int
    revenue: str


class TopUser(msgspec.Struct):
    user_id: str
    orders: int
    revenue: str


class TopProducts(msgspec.Struct):
    items: list[TopProduct]
    windows: int


class TopUsers(msgspec.Struct):
    items: list[TopUser]
    windows: int
