"""Stream job benchmark: sustained events/s Kafka -> Flink -> Kafka, and quiet-shop window latency.

Runs the real job (``stream.setup.job_command``, as the runtime starts it) on private topics of a
running Kafka:

1. preloads ``--events`` order events spread evenly over ``--windows`` one-minute event-time
   windows (1-3 lines each, 10k users, 500 products) into a 3-partition source topic, then a clock
   tick past the last window on every partition (what the outbox relay sends, docs/stream.md);
2. starts the job and records when each window's result appears on the sink topic; the steady-state
   rate is the events of the windows after the initial burst up to the next-to-last result, divided
   by the time between those results (``steady_rate``: start-up and the last window excluded);
3. then, with the job caught up and idle, sends single orders stamped "now" while ticking the clock
   once a second as the relay does, and measures how long after ``window_end + watermark delay``
   their window appears (the quiet-shop case: no later order pushes the watermark, the ticks do).

Usage: ``.venv/bin/python bench/stream_throughput.py --bootstrap 127.0.0.1:19092 [--parallelism 2]``
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from stream.setup import ensure_environment, is_healthy, job_command  # noqa: E402

WINDOW_S = 60
DELAY_S = 5
IDLE_S = 10
BURST_S = 1.0


def fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def create_topics(bootstrap: str, source: str, sink: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(source, 3, 1), NewTopic(sink, 1, 1)])
    finally:
        await admin.close()


async def preload(bootstrap: str, topic: str, events: int, windows: int, base: datetime) -> float:
    rng = random.Random(7)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024,
                                acks=1)
    await producer.start()
    started = time.perf_counter()
    span_ms = windows * WINDOW_S * 1000
    try:
        pending = []
        for i in range(events):
            at = base + timedelta(milliseconds=i * span_ms // events)
            picks = [(f"p{rng.randrange(500)}", rng.randint(1, 3), rng.randint(100, 9999))
                     for _ in range(rng.randint(1, 3))]
            lines = [{"product_id": product, "quantity": quantity, "unit_price": f"{cents / 100:.2f}"}
                     for product, quantity, cents in picks]
            total = sum(quantity * cents for _, quantity, cents in picks) / 100
            order = f"o-{i}"
            value = json.dumps({
                "event_id": str(uuid.UUID(int=rng.getrandbits(128))), "type": "order.created",
                "occurred_at": fmt(at), "order_id": order, "user_id": f"u{rng.randrange(10_000)}",
                "items": lines, "total": f"{total:.2f}", "currency": "USD",
            }).encode()
            pending.append(await producer.send(topic, value, key=order.encode()))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        await tick(producer, topic, base + timedelta(milliseconds=span_ms, seconds=DELAY_S + 1))
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def tick(producer: AIOKafkaProducer, topic: str, at: datetime) -> None:
    """A clock tick (``services.kit.events.CLOCK``) at ``at`` on every partition, as the outbox relay sends."""
    value = json.dumps({"type": "clock", "occurred_at": fmt(at)}).encode()
    for partition in sorted(await producer.partitions_for(topic)):
        await producer.send_and_wait(topic, value, partition=partition)


async def tick_every_second(producer: AIOKafkaProducer, topic: str) -> None:
    while True:
        await tick(producer, topic, datetime.now(UTC))
        await asyncio.sleep(1.0)


async def watch_windows(bootstrap: str, sink: str, expect: int, timeout_s: float,
                        orders: dict[str, int]) -> dict[str, float]:
    """window_start -> monotonic time its window result was first seen (``orders`` gets its count)."""
    consumer = AIOKafkaConsumer(sink, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout_s
    try:
        while len(seen) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    key = record.key.decode()
                    if key.startswith("window|"):
                        seen.setdefault(key.split("|", 1)[1], time.monotonic())
                        orders[key] = json.loads(record.value)["orders"]
    finally:
        await consumer.stop()
    return seen


async def quiet_latency(bootstrap: str, source: str, sink: str, samples: int) -> list[float]:
    """Seconds from window_end + watermark delay to the window's result, one lone order per window."""
    out: list[float] = []
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(sink, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest")
    await producer.start()
    await consumer.start()
    clock = asyncio.create_task(tick_every_second(producer, source))
    try:
        for _ in range(samples):
            now = datetime.now(UTC)
            start = now.replace(second=0, microsecond=0)
            end = start + timedelta(seconds=WINDOW_S)
            event = {"event_id": str(uuid.uuid4()), "type": "order.created", "occurred_at": fmt(now),
                     "order_id": "lat", "user_id": "u-lat",
                     "items": [{"product_id": "p-lat", "quantity": 1, "unit_price": "1.00"}],
                     "total": "1.00", "currency": "USD"}
            await producer.send_and_wait(source, json.dumps(event).encode(), key=b"lat")
            want = f"window|{start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            deadline = time.monotonic() + WINDOW_S + DELAY_S + 60
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                keys = [r.key.decode() for records in batch.values() for r in records]
                if want in keys:
                    out.append((datetime.now(UTC) - (end + timedelta(seconds=DELAY_S))).total_seconds())
                    break
    finally:
        clock.cancel()
        await producer.stop()
        await consumer.stop()
    return out


def steady_rate(times: list[float], events_per_window: float) -> tuple[float, int]:
    """Events/s between the end of the initial burst and the next-to-last window; and how many
    windows that covers.

    ``times`` are the windows' result times in window order. The last window is left out (it closes
    with the preload's closing tick, not with the next window's events). Windows that come out
    together within ``BURST_S`` of the first measure the start-up, not the pipeline, so the interval
    starts at the last of them.
    """
    usable = times[:-1]
    start = max(i for i, t in enumerate(usable) if t - usable[0] < BURST_S)
    measured = len(usable) - 1 - start
    if measured < 2:
        raise SystemExit(f"only {measured} windows after the initial burst: preload more --windows")
    return events_per_window * measured / (usable[-1] - usable[start]), measured


def family(root: int) -> set[int]:
    """A process and all its descendants (wrapper, JVM, job Python)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in found]
        found.update(frontier)
    return found


def rss_mib(root: int) -> float:
    """Resident memory of a process and all its descendants."""
    total_kib = 0
    for pid in family(root):
        try:
            total_kib += int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total_kib / 1024


def start_flight_recording(root: int, target: Path) -> None:
    """Start a JDK Flight Recording (CPU samples per thread = per Flink task) in the job's JVM."""
    java_home = os.environ.get("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")
    for pid in family(root):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "java":
                subprocess.run([f"{java_home}/bin/jcmd", str(pid), "JFR.start", "settings=profile",
                                f"filename={target}"], check=True, capture_output=True)
                return
        except OSError:
            continue
    raise SystemExit("no JVM found under the job process")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument("--events", type=int, default=600_000)
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--latency-samples", type=int, default=2)
    parser.add_argument("--jfr", type=Path, help="record the job JVM with JDK Flight Recorder into this file")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "ecomctl")
    args = parser.parse_args()

    runtime = ensure_environment(args.cache, lambda m: print(m, file=sys.stderr))
    tag = uuid.uuid4().hex[:8]
    source, sink = f"bench-orders-{tag}", f"bench-results-{tag}"
    asyncio.run(create_topics(args.bootstrap, source, sink))
    base = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    load_s = asyncio.run(preload(args.bootstrap, source, args.events, args.windows, base))
    print(f"preloaded {args.events} events in {load_s:.1f}s", file=sys.stderr)

    state = Path(tempfile.mkdtemp(prefix="stream-bench-"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "JOB_NAME": "orders-analytics-bench", "LOG_LEVEL": "WARNING",
           "KAFKA_BOOTSTRAP_SERVERS": args.bootstrap, "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
           "SOURCE_TOPIC": source, "SINK_TOPIC": sink, "KAFKA_CONSUMER_GROUP": f"bench-{tag}",
           "WINDOW_SECONDS": str(WINDOW_S), "WATERMARK_DELAY_S": str(DELAY_S), "IDLE_TIMEOUT_S": str(IDLE_S),
           "PARALLELISM": str(args.parallelism), "CHECKPOINT_INTERVAL_S": "10"}
    started = time.monotonic()
    log = (state / "job.log").open("wb")
    command = job_command(runtime, state)
    proc = subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    peak_rss = 0.0
    try:
        while not is_healthy(state):
            if proc.poll() is not None or time.monotonic() - started > 300:
                raise SystemExit(f"job did not start; see {state / 'job.log'}")
            time.sleep(0.5)
        running_at = time.monotonic()
        if args.jfr is not None:
            start_flight_recording(proc.pid, args.jfr.resolve())
        counted: dict[str, int] = {}
        seen = asyncio.run(watch_windows(args.bootstrap, sink, args.windows, timeout_s=900, orders=counted))
        peak_rss = rss_mib(proc.pid)
        ordered = sorted(seen.items())
        if len(ordered) < args.windows:
            raise SystemExit(f"only {len(ordered)} windows came out; see {state / 'job.log'}")
        times = [t for _, t in ordered]
        rate, measured = steady_rate(times, args.events / args.windows)
        overall = args.events / (times[-2] - running_at) * (args.windows - 1) / args.windows
        latencies = asyncio.run(quiet_latency(args.bootstrap, source, sink, args.latency_samples))
        peak_rss = max(peak_rss, rss_mib(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    print(json.dumps({
        "events": args.events, "windows": args.windows, "parallelism": args.parallelism,
        "job_start_s": round(running_at - started, 1),
        "steady_events_per_s": round(rate), "steady_windows": measured,
        "events_per_s_incl_startup": round(overall),
        "window_results_s_after_running": [round(t - running_at, 1) for t in times],
        "quiet_window_latency_s_after_end_plus_delay": [round(x, 2) for x in latencies],
        "orders_counted": sum(counted.values()),  # must equal events: nothing dropped as late
        "job_rss_mib": round(peak_rss), "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
