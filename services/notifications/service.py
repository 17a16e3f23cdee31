"""One notification per order event (idempotent by event_id), and the caller's log.

The events of one Kafka fetch are sent together: claim and log (one transaction per 50 events)
-> publish (SNS ``PublishBatch``, 10 per request) -> mark sent (one transaction per 100). The
claim (a conditional write keyed by consumer and event id, with a lease) lets one attempt at a
time send an event, and a redelivery after the sender crashed take over once the lease expired;
"sent" ends every later redelivery. The only window left is a crash after SNS accepted the
messages and before the mark: then they are published again, each with the same ``event_id``
message attribute, by which a subscriber drops the repeat.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from aiokafka import ConsumerRecord

from services.kit import events
from services.kit.auth import Caller
from services.kit.errors import Invalid, Unavailable
from services.kit.events import OrderEvent, rfc3339, utc_now
from services.kit.faults import crash_point
from services.kit.pagination import decode_cursor, encode_cursor
from services.notifications.schemas import Notification, NotificationPage
from services.notifications.store import NotificationStore, Outgoing

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

    async def handle(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """The records of one Kafka fetch, as one batch (see ``notify_many``)."""
        batch: list[OrderEvent] = []
        for record in records:
            if record.value is None or events.is_clock(record.value):
                continue
            try:
                batch.append(events.decode(record.value))
            except (msgspec.ValidationError, msgspec.DecodeError):
                log.warning("skipping a malformed event at offset %s", record.offset)
                self.skipped.labels("malformed").inc()
        if batch:
            await self.notify_many(batch)

    async def notify(self, event: OrderEvent) -> bool:
        """Send and log the notification of ``event``; False when it was handled before."""
        return bool(await self.notify_many([event]))

    async def notify_many(self, batch: Sequence[OrderEvent]) -> list[str]:
        """Send and log the notification of each event not handled before; the ids of those sent now.

        Raises ``Busy`` when another attempt holds some of the events (after sending the others),
        and ``Unavailable`` when SNS did not take some messages (after marking those it took):
        either way the batch is handled again later, and what was sent is not sent again."""
        unique: dict[str, OrderEvent] = {}
        for event in batch:
            if event.event_id in unique:
                self.skipped.labels("duplicate").inc()
            unique.setdefault(event.event_id, event)
        owner = uuid.uuid4().hex
        outgoing = [self.outgoing(event) for event in unique.values()]
        states = await self.store.claim(outgoing, owner, self.lease_s)
        claimed = [o for o in outgoing if states.get(o.event_key) == "claimed"]
        busy = [o.notification.event_id for o in outgoing if states.get(o.event_key) == "busy"]
        duplicates = sum(1 for o in outgoing if states.get(o.event_key) == "sent")
        if duplicates:
            self.skipped.labels("duplicate").inc(duplicates)
        crash_point("notifications.claimed")
        published = await self.store.publish(claimed)
        crash_point("notifications.published")
        await self.store.mark_sent([o.event_key for o in published.sent], owner)
        self._count(published.sent)
        if published.failed:
            await self.store.release(list(published.failed), owner)
            reasons = sorted(set(published.failed.values()))
            log.warning("SNS did not take %d of %d notifications: %s", len(published.failed), len(claimed),
                        "; ".join(reasons)[:500])
            raise Unavailable(f"SNS did not take {len(published.failed)} notifications")
        if busy:
            raise Busy(", ".join(busy))
        return [o.notification.event_id for o in published.sent]

    def outgoing(self, event: OrderEvent) -> Outgoing:
        """The claim key, log entry and SNS message of ``event``."""
        subject, message = compose(event)
        payload = json.dumps({"subject": subject, "message": message, "user_id": event.user_id,
                              "order_id": event.order_id, "type": event.type, "event_id": event.event_id})
        notification = Notification(
            notification_id=f"{event.occurred_at}#{event.event_id}", event_id=event.event_id,
            order_id=event.order_id, type=event.type, subject=subject, message=message,
            total=event.total, currency=event.currency, occurred_at=event.occurred_at,
            sent_at=rfc3339(utc_now()), channel="sns",
        )
        return Outgoing(event_key=f"{self.consumer_group}#{event.event_id}", user_id=event.user_id,
                        notification=notification, message=payload,
                        attributes={"event_type": event.type, "user_id": event.user_id, "event_id": event.event_id})

    def _count(self, sent: Sequence[Outgoing]) -> None:
        now = utc_now()
        for o in sent:
            self.sent.labels(o.notification.type).inc()
            occurred = _parse(o.notification.occurred_at)
            if self.delay is not None and occurred is not None:
                self.delay.observe(max(0.0, (now - occurred).total_seconds()))

    async def page(self, caller: Caller, limit: int, cursor: str | None) -> NotificationPage:
        position = decode_cursor(cursor)
        after = position.get("n") if position else None
        if position is not None and (not isinstance(after, str) or len(after) > 200):
            raise Invalid("the cursor is not valid")
        items, last = await self.store.page(caller.user_id, limit, after)
        return NotificationPage(items=items, next_cursor=None if last is None else encode_cursor({"n": last}))
