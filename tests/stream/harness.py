"""Test harness for the stream job: private topics, a private job process, events and results."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from stream.setup import FlinkRuntime, is_healthy, job_command

REPO = Path(__file__).resolve().parents[2]


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def create_topics(bootstrap: str, *topics: tuple[str, int]) -> None:
    async def run() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in topics])
        finally:
            await admin.close()

    asyncio.run(run())


def produce(bootstrap: str, topic: str, events: Iterable[dict[str, Any]]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for event in events:
                await producer.send_and_wait(topic, json.dumps(event).encode(), key=event["order_id"].encode())
        finally:
            await producer.stop()

    asyncio.run(run())


def read_all(bootstrap: str, topic: str, idle_s: float = 1.0) -> list[tuple[str, dict[str, Any]]]:
    """Every (key, value) on the topic so far, in order."""
    async def run() -> list[tuple[str, dict[str, Any]]]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        out: list[tuple[str, dict[str, Any]]] = []
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=int(idle_s * 1000))
                if not batch:
                    return out
                for records in batch.values():
                    out += [(r.key.decode(), json.loads(r.value)) for r in records]
        finally:
            await consumer.stop()

    return asyncio.run(run())


def latest_by_key(records: list[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """What an upserting consumer (the analytics service) ends up with."""
    return dict(records)


def wait_for_key(bootstrap: str, topic: str, key: str, timeout_s: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        results = latest_by_key(read_all(bootstrap, topic, idle_s=0.5))
        if key in results:
            return results
        if time.monotonic() > deadline:
            raise AssertionError(f"{key} not on {topic} within {timeout_s}s; have {sorted(results)}")
        time.sleep(0.5)


@dataclass
class Order:
    """An order whose events the tests write straight to the source topic."""

    user_id: str
    items: list[tuple[str, int, str]]  # product, quantity, unit price
    order_id: str = field(default_factory=lambda: f"o-{uuid.uuid4().hex[:10]}")

    @property
    def total(self) -> str:
        from decimal import Decimal

        return str(sum((Decimal(p) * q for _, q, p in self.items), Decimal("0.00")))

    def event(self, kind: str, at: datetime, event_id: str | None = None) -> dict[str, Any]:
        return {
            "event_id": event_id or str(uuid.uuid4()), "type": kind, "occurred_at": rfc3339(at),
            "order_id": self.order_id, "user_id": self.user_id,
            "items": [{"product_id": p, "quantity": q, "unit_price": u} for p, q, u in self.items],
            "total": self.total, "currency": "USD",
        }


def next_boundary(window_s: int, at: datetime | None = None, margin_s: float = 0.5) -> datetime:
    """The next window start at least ``margin_s`` after ``at`` (now)."""
    now = at or datetime.now(UTC)
    epoch = now.timestamp() + margin_s
    return datetime.fromtimestamp((int(epoch) // window_s + 1) * window_s, UTC)


def sleep_until(moment: datetime) -> None:
    delay = (moment - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)


class ClockTicks:
    """What the outbox relay sends on the platform (``services.orders.relay``): a clock tick to every
    partition of the source topic, here every 0.5 s with the wall clock (the tests write their events
    straight to the topic, so nothing waits in an outbox). Only ticks move the job's watermark past
    the last event. A stand-in for the relay because these jobs read private topics no relay feeds."""

    def __init__(self, bootstrap: str, topic: str, every_s: float = 0.5) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(bootstrap, topic, every_s)),
                                        name="clock-ticks", daemon=True)
        self._thread.start()

    async def _run(self, bootstrap: str, topic: str, every_s: float) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            partitions = sorted(await producer.partitions_for(topic))
            while not self._stop.is_set():
                tick = json.dumps({"type": "clock", "occurred_at": rfc3339(datetime.now(UTC))}).encode()
                for partition in partitions:
                    await producer.send_and_wait(topic, tick, partition=partition)
                await asyncio.sleep(every_s)
        finally:
            await producer.stop()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


@dataclass
class PrivateJob:
    """One job process on private topics and state, started exactly as the runtime starts it."""

    runtime: FlinkRuntime
    bootstrap: str
    state_dir: Path
    window_s: int
    delay_s: int = 2
    idle_s: int = 2
    checkpoint_s: int = 2
    source: str = field(default_factory=lambda: f"t-orders-{uuid.uuid4().hex[:8]}")
    sink: str = field(default_factory=lambda: f"t-results-{uuid.uuid4().hex[:8]}")
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    clock: ClockTicks | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "FLINK_"))}
        env.update(
            JOB_NAME="orders-analytics-test", LOG_LEVEL="INFO", PYTHONPATH=str(REPO),
            KAFKA_BOOTSTRAP_SERVERS=self.bootstrap, KAFKA_SECURITY_PROTOCOL="PLAINTEXT",
            SOURCE_TOPIC=self.source, SINK_TOPIC=self.sink, KAFKA_CONSUMER_GROUP=f"{self.source}-flink",
            WINDOW_SECONDS=str(self.window_s), WATERMARK_DELAY_S=str(self.delay_s),
            IDLE_TIMEOUT_S=str(self.idle_s), PARALLELISM="1", CHECKPOINT_INTERVAL_S=str(self.checkpoint_s),
        )
        return env

    def create_topics(self) -> None:
        create_topics(self.bootstrap, (self.source, 3), (self.sink, 1))

    def start(self, timeout_s: float = 180) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state_dir / "job.log"
        with self.log_path.open("ab") as log:
            command = job_command(self.runtime, self.state_dir)
            self.process = subprocess.Popen(command, env=self.env(),
                                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not (is_healthy(self.state_dir) and self._status_is_ours()):
            if self.process.poll() is not None:
                raise AssertionError(f"job exited {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"job not RUNNING within {timeout_s}s:\n{self.log_tail()}")
            time.sleep(0.5)
        time.sleep(3)  # RUNNING is reported before the Kafka reader has its partitions
        if self.clock is None:
            self.clock = ClockTicks(self.bootstrap, self.source)

    def _job_pid(self) -> int | None:
        try:
            pid = json.loads((self.state_dir / "flink" / "status.json").read_text())["pid"]
            return pid if isinstance(pid, int) else None
        except (OSError, ValueError, KeyError):
            return None

    def _status_is_ours(self) -> bool:
        """The status file was written by the job under our wrapper, not a previous run's."""
        assert self.process is not None
        pid = self._job_pid()
        if pid is None:
            return False
        try:  # the wrapper starts `flink run` as a session leader: its parent is the wrapper
            leader = os.getsid(pid)
            ppid = int(Path(f"/proc/{leader}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        return ppid == self.process.pid

    def kill(self) -> None:
        """A crash: SIGKILL to the wrapper, the JVM and the job's Python at once, no savepoint."""
        assert self.process is not None
        pid = self._job_pid()
        with contextlib.suppress(OSError):
            if pid is not None and self._status_is_ours():
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout_s: float = 60) -> int:
        """What the supervisor does: SIGTERM to the process it started, then wait."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        return self.process.returncode

    def cleanup(self) -> None:
        if self.clock is not None:
            self.clock.close()
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def completed_checkpoints(self) -> list[Path]:
        return sorted(self.state_dir.glob("flink/checkpoints/*/chk-*/_metadata"),
                      key=lambda p: p.stat().st_mtime_ns)


def window_row(start: datetime, window_s: int, *, orders: int, units: int, revenue: str,
               unique_users: int, cancelled: int) -> tuple[str, dict[str, Any]]:
    ws, we = stamp(start), stamp(start + timedelta(seconds=window_s))
    return f"window|{ws}", {"kind": "window", "window_start": ws, "window_end": we, "orders": orders,
                            "units": units, "revenue": revenue, "unique_users": unique_users,
                            "cancelled_orders": cancelled}


def product_row(start: datetime, window_s: int, product: str, units: int, revenue: str) -> tuple[str, dict[str, Any]]:
    ws, we = stamp(start), stamp(start + timedelta(seconds=window_s))
    return f"product|{ws}|{product}", {"kind": "product", "window_start": ws, "window_end": we,
                                       "product_id": product, "units": units, "revenue": revenue}


def user_row(start: datetime, window_s: int, user: str, orders: int, revenue: str) -> tuple[str, dict[str, Any]]:
    ws, we = stamp(start), stamp(start + timedelta(seconds=window_s))
    return f"user|{ws}|{user}", {"kind": "user", "window_start": ws, "window_end": we,
                                 "user_id": user, "orders": orders, "revenue": revenue}


def produce_raw(bootstrap: str, topic: str, messages: Iterable[tuple[bytes, bytes]]) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for key, value in messages:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(run())


def window_start(at: datetime, window_s: int) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp()) // window_s * window_s, UTC)


def model(events: Iterable[dict[str, Any]], window_s: int) -> dict[str, dict[str, Any]]:
    """The documented semantics, computed in Python: the oracle for the restart test."""
    from decimal import Decimal

    seen: set[str] = set()
    windows: dict[datetime, dict[str, Any]] = {}
    products: dict[tuple[datetime, str], list[Any]] = {}
    users: dict[tuple[datetime, str], list[Any]] = {}
    for event in events:
        if event["event_id"] in seen:
            continue
        seen.add(event["event_id"])
        at = datetime.strptime(event["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        start = window_start(at, window_s)
        sign = 1 if event["type"] == "order.created" else -1
        units = sum(i["quantity"] for i in event["items"])
        w = windows.setdefault(start, {"orders": 0, "units": 0, "revenue": Decimal("0.00"),
                                       "users": set(), "cancelled": 0})
        w["orders" if sign == 1 else "cancelled"] += 1
        w["units"] += sign * units
        w["revenue"] += sign * Decimal(event["total"])
        if sign == 1:
            w["users"].add(event["user_id"])
        for item in event["items"]:
            p = products.setdefault((start, item["product_id"]), [0, Decimal("0.00")])
            p[0] += sign * item["quantity"]
            p[1] += sign * item["quantity"] * Decimal(item["unit_price"])
        u = users.setdefault((start, event["user_id"]), [0, Decimal("0.00")])
        u[0] += 1 if sign == 1 else 0
        u[1] += sign * Decimal(event["total"])
    out: dict[str, dict[str, Any]] = {}
    for start, w in windows.items():
        key, row = window_row(start, window_s, orders=w["orders"], units=w["units"],
                              revenue=f"{w['revenue']:.2f}", unique_users=len(w["users"]),
                              cancelled=w["cancelled"])
        out[key] = row
    for (start, product), (units, revenue) in products.items():
        key, row = product_row(start, window_s, product, units, f"{revenue:.2f}")
        out[key] = row
    for (start, user), (orders, revenue) in users.items():
        key, row = user_row(start, window_s, user, orders, f"{revenue:.2f}")
        out[key] = row
    return out
