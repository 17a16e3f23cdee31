"""Reading ``orders-events`` from the end offsets taken when the reader opened (test helper)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ecomctl.local.platform import LocalPlatform


class OrdersEventsReader:
    """``with OrdersEventsReader(platform) as r: ...; r.collect(match, expected=n)``."""

    def __init__(self, platform: LocalPlatform, topic: str = "orders-events") -> None:
        self.bootstrap = platform.kafka_bootstrap
        self.topic = platform.service_env("orders").get("TOPIC_ORDERS_EVENTS", topic)
        self.start: dict[TopicPartition, int] = {}
        self.loop = asyncio.new_event_loop()

    def __enter__(self) -> OrdersEventsReader:
        self.start = self.loop.run_until_complete(self._end_offsets())
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.loop.close()

    async def _consumer(self) -> AIOKafkaConsumer:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        return consumer

    async def _end_offsets(self) -> dict[TopicPartition, int]:
        consumer = await self._consumer()
        try:
            partitions = [TopicPartition(self.topic, p) for p in consumer.partitions_for_topic(self.topic) or ()]
            if not partitions:
                await consumer._client.force_metadata_update()
                partitions = [TopicPartition(self.topic, p) for p in consumer.partitions_for_topic(self.topic) or ()]
            return dict(await consumer.end_offsets(partitions))
        finally:
            await consumer.stop()

    def collect(self, match: Callable[[dict[str, Any]], bool], expected: int, timeout_s: float) -> list[dict[str, Any]]:
        """Matching order events (value fields plus ``key``; clock ticks skipped), waiting until
        ``expected`` arrived and a little longer, to catch duplicates."""
        return self.loop.run_until_complete(self._collect(match, expected, timeout_s))

    async def _collect(self, match: Callable[[dict[str, Any]], bool], expected: int,
                       timeout_s: float) -> list[dict[str, Any]]:
        consumer = await self._consumer()
        found: list[dict[str, Any]] = []
        try:
            consumer.assign(list(self.start))
            for partition, offset in self.start.items():
                consumer.seek(partition, offset)
            deadline = time.monotonic() + timeout_s
            settle_until: float | None = None
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=300)
                for records in batches.values():
                    for record in records:
                        event = json.loads(record.value or b"{}")
                        if event.get("type") == "clock":  # the relay's clock ticks are no order events
                            continue
                        event["key"] = (record.key or b"").decode()
                        if match(event):
                            found.append(event)
                if len(found) >= expected and settle_until is None:
                    settle_until = time.monotonic() + 2.0  # a duplicate would arrive right behind
                if settle_until is not None and time.monotonic() >= settle_until:
                    break
        finally:
            await consumer.stop()
        return found


class Count:
    """A stand-in for a Prometheus counter (``labels(...).inc()``) that remembers its total."""

    def __init__(self) -> None:
        self.n = 0

    def labels(self, *_: str) -> Count:
        return self

    def inc(self, amount: int = 1) -> None:
        self.n += amount
