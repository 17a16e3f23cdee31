"""One notification per order event (idempotent by event_id), and the caller's log."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import msgspec
from aiokafka import ConsumerRecord

from services.kit import events
from services.kit.auth import Caller
from services.kit.errors import Invalid
from services.kit.events import OrderEvent, rfc3339, utc_now
from services.kit.pagination import decode_cursor, encode_cursor
from services.notifications.schemas import Notification, NotificationPage
from services.notifications.store import NotificationStore

log = logging.getLogger("services.notifications")


def compose(event: OrderEvent) -> tuple[str, str]:
    """(subject, message) for an order event."""
    units = sum(i.quantity for i in event.items)
    short = event.order_id[:8]
    if event.type == events.ORDER_CREATED:
        return (f"Order {short} confirmed",
                f"Your order {event.order_id} for {units} item(s), {event.total} {event.currency}, is confirmed.")
    return (f"Order {short} cancelled",
            f"Your order {event.order_id} ({event.total} {event.currency}) was cancelled.")


def _parse(moment: str) -> datetime | None:
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


class NotificationService:
    def __init__(self, store: NotificationStore, consumer_group: str, sent: Any, skipped: Any,
                 delay: Any = None) -> None:
        self.store = store
        self.consumer_group = consumer_group
        self.sent = sent  # prometheus Counter (by type)
        self.skipped = skipped  # prometheus Counter (by reason)
        self.delay = delay  # prometheus Histogram: event occurred -> notification stored, or None

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.value is None:
            return
        try:
            event = events.decode(record.value)
        except (msgspec.ValidationError, msgspec.DecodeError):
            log.warning("skipping a malformed event at offset %s", record.offset)
            self.skipped.labels("malformed").inc()
            return
        await self.notify(event)

    async def notify(self, event: OrderEvent) -> bool:
        """Send and log the notification of ``event``; False when it was handled before."""
        key = f"{self.consumer_group}#{event.event_id}"
        if await self.store.already_processed(key):
            self.skipped.labels("duplicate").inc()
            return False
        subject, message = compose(event)
        payload = json.dumps({"subject": subject, "message": message, "user_id": event.user_id,
                              "order_id": event.order_id, "type": event.type, "event_id": event.event_id})
        await self.store.publish(subject, payload, {"event_type": event.type, "user_id": event.user_id})
        notification = Notification(
            notification_id=f"{event.occurred_at}#{event.event_id}", event_id=event.event_id,
            order_id=event.order_id, type=event.type, subject=subject, message=message,
            total=event.total, currency=event.currency, occurred_at=event.occurred_at,
            sent_at=rfc3339(utc_now()), channel="sns",
        )
        await self.store.record(event.user_id, notification)
        await self.store.mark_processed(key)
        self.sent.labels(event.type).inc()
        occurred = _parse(event.occurred_at)
        if self.delay is not None and occurred is not None:
            self.delay.observe(max(0.0, (utc_now() - occurred).total_seconds()))
        return True

    async def page(self, caller: Caller, limit: int, cursor: str | None) -> NotificationPage:
        position = decode_cursor(cursor)
        after = position.get("n") if position else None
        if position is not None and (not isinstance(after, str) or len(after) > 200):
            raise Invalid("the cursor is not valid")
        items, last = await self.store.page(caller.user_id, limit, after)
        return NotificationPage(items=items, next_cursor=None if last is None else encode_cursor({"n": last}))
