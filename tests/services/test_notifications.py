"""Notifications: one per order event via SNS, a per-user log, idempotent by event_id."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from services.kit import aws
from services.kit.auth import Caller
from services.kit.dynamo import DynamoClient
from services.kit.errors import Unavailable
from services.kit.events import EventItem, OrderEvent
from services.notifications.service import NotificationService
from services.notifications.settings import Settings
from services.notifications.store import NotificationStore
from tests.services.conftest import Account
from tests.services.events import Count

pytestmark = pytest.mark.platform


def _wait_for(fetch: Callable[[], list[dict[str, Any]]], count: int, timeout_s: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    items = fetch()
    while len(items) < count and time.monotonic() < deadline:
        time.sleep(0.3)
        items = fetch()
    return items


def test_an_order_and_its_cancellation_are_notified_once_each(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=5, price="7.00")
    order = api.post("/api/orders", headers=user.headers,
                     json={"product_id": product["product_id"], "quantity": 2}).json()
    api.post(f"/api/orders/{order['id']}/cancel", headers=user.headers)

    def mine() -> list[dict[str, Any]]:
        answer = api.get("/api/notifications", headers=user.headers)
        assert answer.status_code == 200
        return [n for n in answer.json()["items"] if n["order_id"] == order["id"]]

    items = _wait_for(mine, 2)
    time.sleep(1.0)  # a duplicate would show up now
    items = mine()
    assert sorted(n["type"] for n in items) == ["order.cancelled", "order.created"]
    created = next(n for n in items if n["type"] == "order.created")
    assert created["total"] == "14.00" and created["channel"] == "sns" and order["id"] in created["message"]
    assert items[0]["occurred_at"] >= items[1]["occurred_at"]  # newest first


def test_notifications_are_per_user(api: httpx.Client, new_user: Callable[[], Account]) -> None:
    stranger = new_user()
    assert api.get("/api/notifications", headers=stranger.headers).json() == {"items": [], "next_cursor": None}
    assert api.get("/api/notifications").status_code == 401


def test_the_notification_reaches_an_sns_subscriber(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    env = platform.service_env("notifications")
    common: dict[str, Any] = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": env["AWS_REGION"],
                              "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs, sns = boto3.client("sqs", **common), boto3.client("sns", **common)
    queue = sqs.create_queue(QueueName=f"test-deliveries-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=env["SNS_TOPIC_ORDER_NOTIFICATIONS_ARN"], Protocol="sqs",
                                 Endpoint=queue_arn)["SubscriptionArn"]
    try:
        product = new_product(stock=5)
        order = api.post("/api/orders", headers=user.headers,
                         json={"product_id": product["product_id"], "quantity": 1}).json()
        bodies: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(order["id"] in b for b in bodies):
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            bodies.extend(m["Body"] for m in messages.get("Messages", []))
        mine = [b for b in bodies if order["id"] in b]
        assert len(mine) == 1, bodies
        assert "order.created" in mine[0]
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue)


def store_of(settings: Settings) -> NotificationStore:
    """The worker's store on the test stack's tables and topic (processed claims kept an hour)."""
    return NotificationStore(
        DynamoClient(settings.aws.region), aws.client("sns", settings.aws.region),
        settings.table_notifications, settings.table_processed_events, settings.sns_topic_arn, 3600,
    )


def test_a_redelivered_event_changes_nothing(aws_environ: Callable[[str], dict[str, str]]) -> None:
    settings = Settings.from_env(aws_environ("notifications"))
    store = store_of(settings)

    sent, skipped = Count(), Count()
    service = NotificationService(store, f"test-{uuid.uuid4().hex[:6]}", sent, skipped)
    user_id = uuid.uuid4().hex
    event = OrderEvent(
        event_id=uuid.uuid4().hex, type="order.created", occurred_at="2026-01-02T03:04:05.000000Z",
        order_id=uuid.uuid4().hex, user_id=user_id,
        items=[EventItem(product_id="p", quantity=1, unit_price="1.00")], total="1.00", currency="USD",
    )

    async def twice() -> tuple[bool, bool, int]:
        first = await service.notify(event)
        second = await service.notify(event)
        page = await service.page(Caller(user_id=user_id, email="", role="user"), 10, None)
        await store.dynamodb.close()
        return first, second, len(page.items)

    assert asyncio.run(twice()) == (True, False, 1)
    assert (sent.n, skipped.n) == (1, 1)


def test_a_message_sns_refuses_fails_the_batch_and_the_others_are_not_sent_again(
    aws_environ: Callable[[str], dict[str, str]],
) -> None:
    """SNS refuses one entry of a PublishBatch (a message over its 256 KiB): the batch fails, so its
    offset is not committed; the others were published and marked, so its redelivery does not
    repeat them; the refused event's claim is released, so the redelivery need not wait its lease."""
    settings = Settings.from_env(aws_environ("notifications"))
    store = store_of(settings)
    sent, skipped = Count(), Count()
    service = NotificationService(store, f"test-{uuid.uuid4().hex[:6]}", sent, skipped)

    def event(currency: str) -> OrderEvent:
        return OrderEvent(
            event_id=uuid.uuid4().hex, type="order.created", occurred_at="2026-01-02T03:04:05.000000Z",
            order_id=uuid.uuid4().hex, user_id=uuid.uuid4().hex,
            items=[EventItem(product_id="p", quantity=1, unit_price="1.00")], total="1.00", currency=currency,
        )

    fine, refused = event("USD"), event("\u20ac" * 50_000)  # 300 KB of JSON escapes in the message

    async def scenario() -> tuple[list[str], str]:
        try:
            with pytest.raises(Unavailable):
                await service.notify_many([fine, refused])
            again = await service.notify_many([fine])
            released = await store.claim([service.outgoing(refused)], "next-attempt", 30)
            return again, released[service.outgoing(refused).event_key]
        finally:
            await store.dynamodb.close()

    assert asyncio.run(scenario()) == ([], "claimed")
    assert (sent.n, skipped.n) == (1, 1)
