"""A notification is published once when its sender crashes mid-way and the batch is redelivered.

A child process sends a batch of events' notifications (as the worker sends each Kafka fetch)
with ``ECOMCTL_CRASH_AT`` set and SIGKILLs itself there; the same batch is then delivered again
(as Kafka does after a consumer crash). What reaches an SNS subscriber is counted, per event.
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
import asyncio, json, sys
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
    await service.notify_many([events.decode(raw.encode()) for raw in json.loads(sys.argv[2])])
asyncio.run(main())
"""


Received = Callable[[list[OrderEvent]], list[list[dict[str, Any]]]]


@pytest.fixture(name="subscriber")
def fx_subscriber(platform: LocalPlatform) -> Iterator[Received]:
    """What an SQS subscriber of the notification topic received about each event's order (read
    until nothing more came for a few seconds)."""
    env = platform.service_env("notifications")
    common: dict[str, Any] = {"endpoint_url": env["AWS_ENDPOINT_URL"], "region_name": env["AWS_REGION"],
                              "aws_access_key_id": "local", "aws_secret_access_key": "local"}
    sqs, sns = boto3.client("sqs", **common), boto3.client("sns", **common)
    queue = sqs.create_queue(QueueName=f"test-crash-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=env["SNS_TOPIC_ORDER_NOTIFICATIONS_ARN"], Protocol="sqs",
                                 Endpoint=queue_arn)["SubscriptionArn"]

    seen: list[dict[str, Any]] = []

    def received(batch: list[OrderEvent]) -> list[list[dict[str, Any]]]:
        quiet_until = time.monotonic() + 4
        while time.monotonic() < quiet_until:
            messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            if messages.get("Messages"):
                seen.extend(json.loads(m["Body"]) for m in messages["Messages"])
                quiet_until = time.monotonic() + 4
        return [[m for m in seen if event.order_id in m["Message"]] for event in batch]

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


def _batch(n: int = 3) -> list[OrderEvent]:
    return [_event() for _ in range(n)]


def _crash_while_sending(platform: LocalPlatform, group: str, batch: list[OrderEvent], point: str) -> None:
    env = {**os.environ, **platform.service_env("notifications"), "ECOMCTL_CRASH_AT": point}
    raw = json.dumps([encode(event).decode() for event in batch])
    child = subprocess.run([sys.executable, "-c", SEND, group, raw, str(LEASE_S)], env=env,
                           timeout=60, capture_output=True, text=True, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    time.sleep(LEASE_S + 0.1)  # the dead sender's lease runs out


def _redeliver(platform: LocalPlatform, group: str, batch: list[OrderEvent], lease_s: float) -> list[str]:
    """Deliver ``batch`` again, then once more; the event ids the first redelivery sent."""
    settings = Settings.from_env(platform.service_env("notifications"))

    async def deliver() -> list[str]:
        store = _store(settings)
        service = NotificationService(store, group, Count(), Count(), lease_s=lease_s)
        try:
            first = await service.notify_many(batch)
            assert await service.notify_many(batch) == []  # a later redelivery: nothing more
        finally:
            await store.dynamodb.close()
        return first

    return asyncio.run(deliver())


def _ids(batch: list[OrderEvent]) -> list[str]:
    return sorted(event.event_id for event in batch)


def test_a_crash_before_publishing_then_a_redelivery_publishes_once(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    aws_environ("notifications")
    group, batch = f"test-{uuid.uuid4().hex[:6]}", _batch()
    _crash_while_sending(platform, group, batch, "notifications.claimed")
    assert sorted(_redeliver(platform, group, batch, lease_s=30)) == _ids(batch)  # the dead sender's claims
    assert [len(messages) for messages in subscriber(batch)] == [1, 1, 1]


def test_a_redelivery_after_the_mark_publishes_nothing(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    aws_environ("notifications")
    group, batch = f"test-{uuid.uuid4().hex[:6]}", _batch()
    assert sorted(_redeliver(platform, group, batch, lease_s=30)) == _ids(batch)
    assert [len(messages) for messages in subscriber(batch)] == [1, 1, 1]


def test_a_batch_with_events_sent_before_publishes_only_the_new_ones(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    aws_environ("notifications")
    group, old, new = f"test-{uuid.uuid4().hex[:6]}", _batch(2), _batch(3)
    _redeliver(platform, group, old, lease_s=30)
    mixed = [new[0], old[0], new[1], old[1], new[2], new[2]]  # and one event twice in the fetch
    assert sorted(_redeliver(platform, group, mixed, lease_s=30)) == _ids(new)
    assert [len(messages) for messages in subscriber(old + new)] == [1] * 5


def test_a_crash_after_publishing_repeats_it_with_the_same_event_id(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    """The one window left (SNS accepted, the mark not written): a repeat a subscriber can drop."""
    aws_environ("notifications")
    group, batch = f"test-{uuid.uuid4().hex[:6]}", _batch()
    _crash_while_sending(platform, group, batch, "notifications.published")
    _redeliver(platform, group, batch, lease_s=30)
    for event, received in zip(batch, subscriber(batch), strict=True):
        assert len(received) == 2
        assert {m["MessageAttributes"]["event_id"]["Value"] for m in received} == {event.event_id}


def test_a_live_claim_makes_a_concurrent_delivery_wait(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    """A batch of which another attempt holds one event: the others are sent, that one waits."""
    aws_environ("notifications")
    settings = Settings.from_env(platform.service_env("notifications"))
    group, batch = f"test-{uuid.uuid4().hex[:6]}", _batch()

    async def scenario() -> None:
        store = _store(settings)
        try:
            service = NotificationService(store, group, Count(), Count())
            held = service.outgoing(batch[1])
            assert await store.claim([held], "someone-else", 30) == {held.event_key: "claimed"}
            with pytest.raises(Busy, match=batch[1].event_id):
                await service.notify_many(batch)
        finally:
            await store.dynamodb.close()

    asyncio.run(scenario())
    assert [len(messages) for messages in subscriber(batch)] == [1, 0, 1]


def test_concurrent_deliveries_of_a_batch_publish_each_event_once(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]],
    subscriber: Received,
) -> None:
    """Two consumers handling the same fetch at once (as during a rebalance): one publish each."""
    aws_environ("notifications")
    settings = Settings.from_env(platform.service_env("notifications"))
    group, batch = f"test-{uuid.uuid4().hex[:6]}", _batch(60)  # two claim transactions each

    async def scenario() -> list[list[str] | BaseException]:
        stores = [_store(settings), _store(settings)]
        try:
            services = [NotificationService(store, group, Count(), Count()) for store in stores]
            return await asyncio.gather(*(s.notify_many(batch) for s in services), return_exceptions=True)
        finally:
            for store in stores:
                await store.dynamodb.close()

    outcomes = asyncio.run(scenario())
    assert all(isinstance(outcome, list | Busy) for outcome in outcomes), outcomes  # Busy: held by the other
    assert [len(messages) for messages in subscriber(batch)] == [1] * len(batch)
