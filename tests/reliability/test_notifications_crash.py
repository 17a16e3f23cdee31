"""A notification is published once when its sender crashes mid-way and the event is redelivered.

A child process sends an event's notification with ``ECOMCTL_CRASH_AT`` set and SIGKILLs itself
there; the same event is then delivered again (as Kafka does after a consumer crash). What reaches
an SNS subscriber is counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from ecomctl.local.platform import LocalPlatform
from services.kit import aws
from services.kit.dynamo import DynamoClient
from services.kit.events import EventItem, OrderEvent, encode
from services.notifications.service import Busy, NotificationService
from services.notifications.settings import Settings
from services.notifications.store import NotificationStore
from tests.services.events import Count

pytestmark = [pytest.mark.platform, pytest.mark.slow]
LEASE_S = 1.0  # the crashing sender's lease (the service's default is 30 s)

SEND = """
import asyncio, sys
from services.kit import aws, events
from services.kit.dynamo import DynamoClient
from services.notifications.service import NotificationService
from services.notifications.settings import Settings
from services.notifications.store import NotificationStore

class Count:
    def labels(self, *_): return self
    def inc(self, *_): pass

settings = Settings.from_env()
async def main():
    store = NotificationStore(DynamoClient(settings.aws.region), aws.client("sns", settings.aws.region),
                              settings.table_notifications, settings.table_processed_events,
                              settings.sns_topic_arn, 3600)
    service = NotificationService(store, sys.argv[1], Count(), Count(), lease_s=float(sys.argv[3]))
    await service.notify(events.decode(sys.argv[2].encode()))
asyncio.run(main())
"""


@pytest.fixture(name="subscriber")
def fx_subscriber(platform: LocalPlatform) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """What an SQS subscriber of the notification topic receives about one order (waits a moment)."""
    env = platform.service_env("notifications")
    common: dict[str, Any] = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": env["AWS_REGION"],
                              "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs, sns = boto3.client("sqs", **common), boto3.client("sns", **common)
    queue = sqs.create_queue(QueueName=f"test-crash-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=env["SNS_TOPIC_ORDER_NOTIFICATIONS_ARN"], Protocol="sqs",
                                 Endpoint=queue_arn)["SubscriptionArn"]

    def received(order_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            found += [json.loads(m["Body"]) for m in messages.get("Messages", []) if order_id in m["Body"]]
        return found

    yield received
    sns.unsubscribe(SubscriptionArn=subscription)
    sqs.delete_queue(QueueUrl=queue)


def _store(settings: Settings) -> NotificationStore:
    return NotificationStore(DynamoClient(settings.aws.region), aws.client("sns", settings.aws.region),
                             settings.table_notifications, settings.table_processed_events,
                             settings.sns_topic_arn, 3600)


def _event() -> OrderEvent:
    return OrderEvent(
        event_id=uuid.uuid4().hex, type="order.created", occurred_at="2026-01-02T03:04:05.000000Z",
        order_id=uuid.uuid4().hex, user_id=uuid.uuid4().hex,
        items=[EventItem(product_id="p", quantity=1, unit_price="1.00")], total="1.00", currency="USD",
    )


def _crash_while_sending(platform: LocalPlatform, group: str, event: OrderEvent, point: str) -> None:
    env = {**os.environ, **platform.service_env("notifications"), "ECOMCTL_CRASH_AT": point}
    child = subprocess.run([sys.executable, "-c", SEND, group, encode(event).decode(), str(LEASE_S)], env=env,
                           timeout=60, capture_output=True, text=True, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    time.sleep(LEASE_S + 0.1)  # the dead sender's lease runs out


def _redeliver(platform: LocalPlatform, group: str, event: OrderEvent, lease_s: float) -> tuple[bool, int]:
    settings = Settings.from_env(platform.service_env("notifications"))

    async def deliver() -> tuple[bool, int]:
        store = _store(settings)
        sent, skipped = Count(), Count()
        service = NotificationService(store, group, sent, skipped, lease_s=lease_s)
        try:
            first = await service.notify(event)
            again = await service.notify(event)  # a later redelivery: nothing more
            assert again is False
        finally:
            await store.dynamodb.close()
        return first, sent.n

    return asyncio.run(deliver())


def test_a_crash_before_publishing_then_a_redelivery_publishes_once(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Callable[[str], list[dict[str, Any]]],
) -> None:
    aws_environ("notifications")
    group, event = f"test-{uuid.uuid4().hex[:6]}", _event()
    _crash_while_sending(platform, group, event, "notifications.claimed")
    assert _redeliver(platform, group, event, lease_s=30) == (True, 1)  # the dead sender's claim: taken over
    assert len(subscriber(event.order_id)) == 1


def test_a_redelivery_after_the_mark_publishes_nothing(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Callable[[str], list[dict[str, Any]]],
) -> None:
    aws_environ("notifications")
    group, event = f"test-{uuid.uuid4().hex[:6]}", _event()
    first, _ = _redeliver(platform, group, event, lease_s=30)
    assert first is True
    assert len(subscriber(event.order_id)) == 1


def test_a_crash_after_publishing_repeats_it_with_the_same_event_id(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Callable[[str], list[dict[str, Any]]],
) -> None:
    """The one window left (SNS accepted, the mark not written): a repeat a subscriber can drop."""
    aws_environ("notifications")
    group, event = f"test-{uuid.uuid4().hex[:6]}", _event()
    _crash_while_sending(platform, group, event, "notifications.published")
    _redeliver(platform, group, event, lease_s=30)
    received = subscriber(event.order_id)
    assert len(received) == 2
    assert {m["MessageAttributes"]["event_id"]["Value"] for m in received} == {event.event_id}


def test_a_live_claim_makes_a_concurrent_delivery_wait(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
) -> None:
    aws_environ("notifications")
    settings = Settings.from_env(platform.service_env("notifications"))
    event = _event()

    async def scenario() -> bool:
        store = _store(settings)
        try:
            key = f"test-{uuid.uuid4().hex[:6]}"
            assert await store.claim(f"{key}#{event.event_id}", "someone-else", 30) == "claimed"
            service = NotificationService(store, key, Count(), Count())
            with pytest.raises(Busy):
                await service.notify(event)
            return True
        finally:
            await store.dynamodb.close()

    assert asyncio.run(scenario())
