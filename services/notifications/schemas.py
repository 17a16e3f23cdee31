"""Response bodies of the notifications API."""

from __future__ import annotations

import msgspec


class Notification(msgspec.Struct):
    notification_id: str
    event_id: str
    order_id: str
    type: str
    subject: str
    message: str
    total: str
    currency: str
    occurred_at: str
    sent_at: str
    channel: str


class NotificationPage(msgspec.Struct):
    items: list[Notification]
    next_cursor: str | None
