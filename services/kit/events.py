"""The ``orders-events`` message: the contract between the orders service and its consumers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import msgspec

ORDER_CREATED = "order.created"
ORDER_CANCELLED = "order.cancelled"
CLOCK = "clock"
"""A clock tick of the outbox relay: every order event not yet published occurred at or after its
``occurred_at``. Sent to every partition of the topic every 1-5 s, it is what moves the
stream job's event-time watermark forward (no wall clock does): while the relay cannot publish
(Kafka down) no tick goes out either, so a window never closes ahead of its events."""
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


class ClockTick(msgspec.Struct, frozen=True):
    type: Literal["clock"]
    occurred_at: str


class _Kind(msgspec.Struct):
    type: str = ""


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


def encode_clock(moment: datetime) -> bytes:
    return msgspec.json.encode(ClockTick("clock", rfc3339(moment)))


def is_clock(raw: bytes) -> bool:
    """True for a clock tick (consumers of order events skip it); False for anything else."""
    try:
        return msgspec.json.decode(raw, type=_Kind).type == CLOCK
    except (msgspec.ValidationError, msgspec.DecodeError):
        return False
