"""One notification per order event (idempotent by event_id), and the caller's log.

Sending is claim -> log -> publish -> mark sent. The claim (a conditional write keyed by consumer
and event id, with a lease) lets one attempt at a time send an event, and a redelivery after the
sender crashed take over once the lease expired; "sent" ends every later redelivery. The only
window left is a crash after SNS accepted the message and before the mark: then it is published
again, with the same ``event_id`` message attribute, by which a subscriber drops the repeat.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

import msgspec
from aiokafka import ConsumerRecord

from services.kit import events
from services.kit.auth import Caller
from services.kit.errors import Invalid
from services.kit.events import OrderEvent, rfc3339, utc_now
from services.kit.faults import crash_point
from services.kit.pagination import decode_cursor, encode_cursor
from services.notifications.schemas import Notification, NotificationPage
from services.notifications.store import NotificationStore

log = logging.getLogger("services.notifications")
LEASE_S = 30.0  # longer than a publish can take (the SNS client's timeouts and retries)


class Busy(Exception):
    """Another attempt is sending this event right now: handle the record again later."""


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
                 delay: Any = None, lease_s: float = LEASE_S) -> None:
        self.store = store
        self.lease_s = lease_s
        self.consumer_group = consumer_group
        self.sent = sent  # prometheus Counter (by type)
        self.skipped = skipped  # prometheus Counter (by reason)
        self.delay = delay  # prometheus Histogram: event occurred -> notification stored, or None

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.value is None or events.is_clock(record.value):
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
        owner = uuid.uuid4().hex
        claim = await self.store.claim(key, owner, self.lease_s)
        if claim == "sent":
            self.skipped.labels("duplicate").inc()
            return False
        if claim == "busy":
            raise Busy(event.event_id)
        subject, message = compose(event)
        payload = json.dumps({"subject": subject, "message": message, "user_id": event.user_id,
                              "order_id": event.order_id, "type": event.type, "event_id": event.event_id})
        notification = Notification(
            notification_id=f"{event.occurred_at}#{event.event_id}", event_id=event.event_id,
            order_id=event.order_id, type=event.type, subject=subject, message=message,
            total=event.total, currency=event.currency, occurred_at=event.occurred_at,
            sent_at=rfc3339(utc_now()), channel="sns",
        )
        await self.store.record(event.user_id, notification)
        crash_point("notifications.claimed")
        await self.store.publish(subject, payload, {"event_type": event.type, "user_id": event.user_id,
                                                    "event_id": event.event_id})
        crash_point("notifications.published")
        await self.store.mark_sent(key, owner)
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
