"""CPU per order event of the notification path: the worker, DynamoDB Local, the AWS API server.

    ECOMCTL_STATE_DIR=... ECOMCTL_PORT_OFFSET=... .venv/bin/python bench/notifications_path.py \
        [--events 3000] [--rate 150] [--idle 10] [--json]

Writes ``--events`` order events to ``orders-events`` at ``--rate`` per second (as the orders
service's outbox relay would), waits until the notifications worker has sent them all (its
``notifications_sent_total``), and divides each component's CPU (its whole process tree, from
``/proc``) by the events, after subtracting what the component spends idle (measured over
``--idle`` seconds first). A ratio that holds on a busy machine where latencies do not. The
events' users are 200 made-up ids; the stream job reads the events too (its share is not counted).
Also reports the AWS API server's RSS before and after (the subscriber queue's messages).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time
import uuid
from pathlib import Path

import httpx
from aiokafka import AIOKafkaProducer

from ecomctl.local.platform import LocalPlatform
from ecomctl.scaletest.cpu import CpuMeter
from services.kit.events import EventItem, OrderEvent, encode, rfc3339, utc_now

COMPONENTS = ("notifications", "dynamodb", "awsapi", "kafka")
SENT = re.compile(r"^notifications_sent_total\{[^}]*\}\s+([0-9.e+]+)$", re.MULTILINE)


def sent_total(metrics_url: str) -> float:
    return sum(float(v) for v in SENT.findall(httpx.get(metrics_url, timeout=5).text))


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def event(users: list[str]) -> OrderEvent:
    order_id = uuid.uuid4().hex
    return OrderEvent(
        event_id=uuid.uuid4().hex, type="order.created", occurred_at=rfc3339(utc_now()), order_id=order_id,
        user_id=users[hash(order_id) % len(users)],
        items=[EventItem(product_id="bench-product", quantity=1, unit_price="9.99")], total="9.99",
        currency="USD",
    )


async def produce(bootstrap: str, topic: str, count: int, rate: float) -> None:
    users = [f"bench-user-{n:03d}" for n in range(200)]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        started = time.monotonic()
        for n in range(count):
            ahead = started + n / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
            one = event(users)
            await producer.send(topic, encode(one), key=one.order_id.encode())
        await producer.flush()
    finally:
        await producer.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=150.0)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    platform = LocalPlatform()
    pids = {c.name: c.pid for c in platform.status().components if c.name in COMPONENTS and c.pid}
    metrics_url = platform.service_url("notifications") + "/metrics"
    topic = platform.service_env("notifications").get("TOPIC_ORDERS_EVENTS", "orders-events")

    meter = CpuMeter(pids)
    meter.start()
    time.sleep(args.idle)
    idle = meter.read()
    idle_s = args.idle

    rss_before = rss_mib(pids["awsapi"])
    before = sent_total(metrics_url)
    meter.start()
    asyncio.run(produce(platform.kafka_bootstrap, topic, args.events, args.rate))
    deadline = time.monotonic() + args.timeout
    while sent_total(metrics_url) - before < args.events and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.monotonic() - meter.since
    used = meter.read()
    sent = sent_total(metrics_url) - before
    per_event = {name: round(1000 * max(0.0, used[name] - idle[name] / idle_s * elapsed) / max(sent, 1), 3)
                 for name in pids}
    result = {
        "events": args.events, "sent": sent, "rate": args.rate, "elapsed_s": round(elapsed, 1),
        "cpu_ms_per_event": per_event,
        "cpu_ms_per_event_path": round(sum(per_event[n] for n in ("notifications", "dynamodb", "awsapi")), 3),
        "idle_cores": {name: round(idle[name] / idle_s, 4) for name in pids},
        "awsapi_rss_mib": {"before": round(rss_before, 1), "after": round(rss_mib(pids["awsapi"]), 1)},
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{sent:.0f} of {args.events} events sent in {elapsed:.1f} s ({args.rate}/s offered)")
        for name, value in per_event.items():
            print(f"  {name:14} {value:7.3f} ms CPU per event")
        print(f"  notification path (worker + dynamodb + awsapi): {result['cpu_ms_per_event_path']} ms")
        print(f"  awsapi RSS: {result['awsapi_rss_mib']}")
    return 0 if sent >= args.events else 1


if __name__ == "__main__":
    raise SystemExit(main())
