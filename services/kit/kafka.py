"""Kafka connection settings, a readiness check, an idempotent producer and a resilient consumer loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.client import AIOKafkaClient

from services.kit.settings import Env, env_str, redact

log = logging.getLogger("services.kit.kafka")

Handler = Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]
BatchHandler = Callable[[list[ConsumerRecord[bytes, bytes]]], Awaitable[None]]


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = ""
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Env | None = None) -> KafkaSettings:
        return cls(
            bootstrap_servers=env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092", environ),
            security_protocol=env_str("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT", environ),
            sasl_mechanism=env_str("KAFKA_SASL_MECHANISM", "", environ),
            sasl_username=env_str("KAFKA_SASL_USERNAME", "", environ),
            sasl_password=env_str("KAFKA_SASL_PASSWORD", "", environ),
        )

    def __repr__(self) -> str:
        return (f"KafkaSettings(bootstrap_servers={self.bootstrap_servers!r}, "
                f"security_protocol={self.security_protocol!r}, "
                f"sasl_password={redact(self.sasl_password)!r})")

    def client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
            "request_timeout_ms": 10000,
        }
        if "SSL" in self.security_protocol:
            kwargs["ssl_context"] = ssl.create_default_context()
        if self.sasl_mechanism:
            kwargs.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return kwargs


async def check_reachable(settings: KafkaSettings) -> None:
    """Readiness: a metadata round trip with the cluster."""
    client = AIOKafkaClient(**settings.client_kwargs())
    try:
        await client.bootstrap()
    finally:
        await client.close()


def producer(settings: KafkaSettings) -> AIOKafkaProducer[Any, Any]:
    """acks=all and idempotence: a retried send is written once per partition."""
    return AIOKafkaProducer(
        **settings.client_kwargs(), acks="all", enable_idempotence=True, linger_ms=2,
    )


async def consume_forever(
    settings: KafkaSettings, topic: str, group: str, handle: BatchHandler, *,
    stop: asyncio.Event, retry_s: float = 1.0, lag: Any = None, gather_ms: int = 0,
) -> None:
    """Consume ``topic`` as ``group`` until ``stop`` is set; offsets are committed after ``handle``.

    ``handle`` gets the records of each fetch (up to 100, each partition's in offset order):
    ``each_record`` makes one of a per-record handler, ``whole_batch`` retries a handler of the
    whole list. At-least-once: when ``handle`` raises, nothing of the fetch is
    committed and the consumer restarts from the last committed offset. Survives the broker being
    down at start or going away. ``lag`` (a gauge labelled group, topic, partition) gets each
    assigned partition's lag after every fetch. ``gather_ms``: the broker holds a fetch up to
    this long until 64 KiB of records are there (bigger batches, fewer fetches and commits, for
    that much delay); 0: a fetch returns what is there at once.
    """
    fetch = {"fetch_min_bytes": 64 * 1024, "fetch_max_wait_ms": gather_ms} if gather_ms else {}
    while not stop.is_set():
        consumer = AIOKafkaConsumer(
            topic, **settings.client_kwargs(), group_id=group, enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=10000, heartbeat_interval_ms=2000, **fetch,
        )
        try:
            await consumer.start()
            log.info("consuming %s as %s", topic, group)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=100)
                if batches:
                    await handle([record for records in batches.values() for record in records])
                    await consumer.commit()
                if lag is not None:
                    await _record_lag(consumer, group, lag)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("consumer of %s failed (%s), restarting", topic, type(exc).__name__, exc_info=exc)
            await _sleep_or_stop(stop, retry_s)
        finally:
            try:
                await consumer.stop()
            except Exception:
                log.debug("consumer stop failed", exc_info=True)


RETRY_DELAYS_S = (0.2, 1.0, 3.0)


async def _record_lag(consumer: AIOKafkaConsumer, group: str, lag: Any) -> None:
    """End of each assigned partition (as of the last fetch) minus the group's position."""
    for tp in consumer.assignment():
        end = consumer.highwater(tp)
        if end is not None:
            position = await consumer.position(tp)
            lag.labels(group, tp.topic, str(tp.partition)).set(max(0, end - position))


async def _with_retries(handle: Handler, record: ConsumerRecord[bytes, bytes]) -> None:
    """A record whose handling fails is retried a few times before the batch is given up."""
    for delay in RETRY_DELAYS_S:
        try:
            await handle(record)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("handling offset %s failed (%s); retrying", record.offset, type(exc).__name__)
            await asyncio.sleep(delay)
    await handle(record)


async def handle_batch(records: list[ConsumerRecord[bytes, bytes]], handle: Handler, concurrency: int) -> None:
    """Handle ``records``: those with the same key one after another, in order (so the last write
    for a key wins), different keys up to ``concurrency`` at a time."""
    if concurrency <= 1:
        for record in records:
            await _with_retries(handle, record)
        return
    by_key: dict[bytes | None, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    gate = asyncio.Semaphore(concurrency)

    async def in_order(group: list[ConsumerRecord[bytes, bytes]]) -> None:
        async with gate:
            for record in group:
                await _with_retries(handle, record)

    await asyncio.gather(*(in_order(group) for group in by_key.values()))


def each_record(handle: Handler, concurrency: int = 1) -> BatchHandler:
    """A batch handler calling ``handle`` per record (``handle_batch``: each record retried a few times)."""

    async def handle_each(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        await handle_batch(records, handle, concurrency)

    return handle_each


def whole_batch(handle: BatchHandler) -> BatchHandler:
    """A batch handler calling ``handle`` with the whole list, which is retried a few times when it
    fails (so ``handle`` must be idempotent: a retry repeats what the failed call did)."""

    async def handle_all(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for delay in RETRY_DELAYS_S:
            try:
                await handle(records)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("handling %d records from offset %s failed (%s); retrying", len(records),
                            records[0].offset if records else "-", type(exc).__name__)
                await asyncio.sleep(delay)
        await handle(records)

    return handle_all


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def consumer_lifespan(
    settings: KafkaSettings, topic: str, group: str, handle: BatchHandler, lag: Any = None, gather_ms: int = 0
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A Litestar lifespan running ``consume_forever`` in the background; stops it on shutdown."""

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = asyncio.create_task(
            consume_forever(settings, topic, group, handle, stop=stop, lag=lag, gather_ms=gather_ms)
        )
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, 10)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan
