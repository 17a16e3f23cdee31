"""The outbox relay: publishes committed outbox rows to Kafka, at least once, then marks them sent.

Runs as a background task of the orders process; woken right after an order commits, and polls
otherwise. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas share the work;
a row is marked sent only after Kafka acknowledged it (acks=all), so a crash in between publishes
it again (consumers are idempotent by ``event_id``).

About once a second while events flow (``TICK_S``; every ``IDLE_TICK_S`` while none do) it also
sends a clock tick (``services.kit.events.CLOCK``) to every
partition of the events topic: the time of the oldest event still waiting in the outbox, or the
database's clock when none waits. The tick is what moves the stream job's event-time watermark,
so a window closes only once every event of it was published: when Kafka is down no tick goes out,
and after it, the backlog is published before a tick passes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC
from typing import Any

from aiokafka import AIOKafkaProducer
from asyncmy.pool import Pool

from services.kit import events, kafka, mysql
from services.kit.kafka import KafkaSettings
from services.kit.mysql import READ_COMMITTED

log = logging.getLogger("services.orders.relay")
COALESCE_S = 0.005
# a batch starts at least this long after the previous one started: under load the relay publishes
# about 6 bigger batches a second instead of one per few orders, so fewer relay transactions in
# MariaDB, produce requests to Kafka and fetches by every consumer, for at most this much more delay
# to Kafka. Measured at 150 orders/s, 50 ms against none: relay UPDATEs 0.21 -> 0.10 per order,
# Kafka 0.39 -> 0.27 and the stream job 0.22 -> 0.16 ms of CPU per order, accepted -> on Kafka p50
# 26 -> 33-44 ms. 150 ms against 50 (with the orders' commit linger at 30 ms against 10), two
# paired runs: Kafka 0.27-0.31 -> 0.22 ms of CPU per order; accepted -> on Kafka p95 62 -> 167 ms,
# -> notification stored p95 0.24 -> 0.32 s (the target: 2 s).
BATCH_EVERY_S = 0.15
TICK_S = 1.0  # between clock ticks while events flow
# between clock ticks while nothing was published since the last: a quiet shop's window closes at
# most this much later (still inside the stream job's 10 s idle timeout), and an idle stack's Kafka,
# stream job and consumers do a fifth of the work (measured: the stack at rest 12.3% of a core with
# a tick every second)
IDLE_TICK_S = 5.0
BACKLOG_EVERY_S = 2.0


class OutboxRelay:
    def __init__(self, pool: Pool, settings: KafkaSettings, poll_s: float, batch: int,
                 published: Any = None, backlog: Any = None, age: Any = None,
                 clock_topic: str | None = None) -> None:
        self.pool = pool
        self.clock_topic = clock_topic  # where clock ticks go (None: no ticks)
        self._next_tick = 0.0
        self._published = 0  # events published since the last tick
        self.settings = settings
        self.poll_s = poll_s
        self.batch = batch
        self.published = published  # a prometheus Counter, or None
        self.backlog = backlog  # prometheus Gauges: unpublished rows and the oldest one's age, or None
        self.age = age
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._drained_at = time.monotonic()
        self._batch_at = 0.0  # when the last batch started (monotonic)
        self._producer: AIOKafkaProducer[Any, Any] | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")
        if self.backlog is not None:
            self._watch = asyncio.create_task(self._watch_backlog(), name="outbox-backlog")

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        if self._producer is not None:
            with contextlib.suppress(Exception):
                await self._producer.stop()

    async def _ensure_producer(self) -> AIOKafkaProducer[Any, Any]:
        if self._producer is None:
            producer = kafka.producer(self.settings)
            try:
                await producer.start()
            except Exception:
                with contextlib.suppress(Exception):
                    await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = await self.publish_batch()
                if sent < self.batch:  # drained: nothing older than this batch is waiting
                    self._drained_at = time.monotonic()
                    self._measured(0, 0.0)
                self._published += sent
                if self.clock_topic is not None and time.monotonic() >= self._next_tick:
                    self._next_tick = time.monotonic() + (TICK_S if self._published else IDLE_TICK_S)
                    self._published = 0
                    await self.tick(self.clock_topic)
            except Exception as exc:
                log.warning("outbox relay failed (%s); retrying", type(exc).__name__, exc_info=exc)
                if self._producer is not None:
                    with contextlib.suppress(Exception):
                        await self._producer.stop()
                    self._producer = None
                sent = 0
                await self._measure()
                await self._sleep(min(self.poll_s, TICK_S) if self.clock_topic else self.poll_s)
            if sent < self.batch:
                await self._sleep(min(self.poll_s, TICK_S) if self.clock_topic else self.poll_s)

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        else:  # let the orders committing right now join this batch
            await asyncio.sleep(max(COALESCE_S, self._batch_at + BATCH_EVERY_S - time.monotonic()))
        self._wake.clear()

    async def publish_batch(self) -> int:
        """Publish one batch of pending rows; how many were published."""
        producer = await self._ensure_producer()
        self._batch_at = time.monotonic()
        # READ COMMITTED: no gap locks, so orders keep inserting outbox rows while a batch is in flight
        async with mysql.transaction(self.pool, READ_COMMITTED) as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT id, topic, msg_key, payload FROM outbox WHERE sent_at IS NULL"
                " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                (self.batch,),
            )
            rows = await cur.fetchall()
            if not rows:
                return 0
            pending = [
                await producer.send(topic, value=payload.encode(), key=key.encode())
                for _, topic, key, payload in rows
            ]
            await asyncio.gather(*pending)
            ids = [r[0] for r in rows]
            await cur.execute(
                f"UPDATE outbox SET sent_at = NOW(6) WHERE id IN ({', '.join(['%s'] * len(ids))})",
                tuple(ids),
            )
        if self.published is not None:
            self.published.inc(len(rows))
        return len(rows)

    async def tick(self, topic: str) -> None:
        """A clock tick to every partition of ``topic``, after the batches published before it."""
        producer = await self._ensure_producer()
        row = await mysql.fetch_one(self.pool, "SELECT MIN(created_at), NOW(6) FROM outbox WHERE sent_at IS NULL")
        if row is None:
            return
        oldest, now = row
        payload = events.encode_clock((oldest if oldest is not None else now).replace(tzinfo=UTC))
        partitions = sorted(await producer.partitions_for(topic))
        pending = [await producer.send(topic, value=payload, partition=p) for p in partitions]
        await asyncio.gather(*pending)

    async def _watch_backlog(self) -> None:
        """While the relay has not drained the outbox for a while (a publish waiting on Kafka that is
        down, or a backlog), the backlog gauges are read from the table every ``BACKLOG_EVERY_S``."""
        while True:
            await asyncio.sleep(BACKLOG_EVERY_S)
            if time.monotonic() - self._drained_at > BACKLOG_EVERY_S:
                await self._measure()

    def _measured(self, rows: int, age_s: float) -> None:
        if self.backlog is not None and self.age is not None:
            self.backlog.set(rows)
            self.age.set(age_s)

    async def _measure(self) -> None:
        """Backlog and age from the table (when publishing fails; unknown while MariaDB is down too)."""
        try:
            row = await mysql.fetch_one(
                self.pool, "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(created_at), NOW(6))"
                " FROM outbox WHERE sent_at IS NULL")
        except Exception as exc:
            log.debug("outbox backlog unknown (%s)", type(exc).__name__)
            return
        if row is not None:
            self._measured(int(row[0]), (int(row[1]) if row[1] is not None else 0) / 1e6)

    async def pending(self) -> int:
        row = await mysql.fetch_one(self.pool, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        return int(row[0]) if row else 0
