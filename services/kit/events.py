"""The ``orders-events`` message: the contract between the orders service and its consumers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
CENT = Decimal("0.01")


class EventItem(msgspec.Struct, frozen=True):
    product_id: str
    quantity: int
    unit_price: str


class OrderEvent(msgspec.Struct, frozen=True):
    event_id: str
    type: Literal["order.created", "order.cancelled"]
    occurred_at: str
    order_id: str
    user_id: str
    items: list[EventItem]
    total: str
    currency: str


def money(value: Decimal | str) -> str:
    """A decimal string with exactly two places: ``Decimal("19.9")`` -> ``"19.90"``."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def rfc3339(moment: datetime) -> str:
    """UTC, microseconds, trailing ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    return datetime.now(UTC)


def encode(event: OrderEvent) -> bytes:
    return msgspec.json.encode(event)


def decode(raw: bytes) -> OrderEvent:
    """Tolerant of extra fields; ``msgspec.ValidationError``/``DecodeError`` for a malformed message."""
    return msgspec.json.decode(raw, type=OrderEvent)
