"""Cost per order: the shopper mix at a fixed arrival rate, and what each accepted order costs.

    .venv/bin/python bench/order_cost.py --rate 50 --duration 30 [--shoppers 50] [--idle 10]
        [--no-window] [--json] [--state-dir DIR --port-offset N]

Open loop: ``--rate`` arrivals a second for ``--duration`` seconds, evenly spaced, whatever the
stack answers. Each arrival is the seed's stress iteration: a shopper (round-robin over
``--shoppers`` logged-in accounts) orders one unit of a random one of the 100 scale-test
products, then lists products (``GET /api/products?limit=20``, anonymous). The accounts and
products come from the scale test's own seeding (``ecomctl.scaletest.dataset``).

After the load it waits (at most ``--drain-timeout`` s) until the follow-on work is done: the
outbox holds no unsent row and every order stored during the run has its notification stored (an
order answered with an error, a gateway timeout say, may have been stored all the same: its
follow-on work counts, and the report says how many there were). Then it reports:

- **CPU per accepted order**, per component (its whole process tree, ``ecomctl.scaletest.cpu``)
  and for the whole stack, from the first arrival until the work was drained; the load generator
  (this process) apart. ``--idle S`` first measures the stack at rest for S seconds and also
  reports the figures above that rest (what the orders themselves cost).
- **End-to-end delays** from the order's acceptance (its ``created_at``, stamped by the orders
  service): to Kafka (the outbox row's ``sent_at``: the relay marks a row once Kafka acknowledged
  it), to the notification stored (the notification's ``sent_at``), and to the 1-minute window
  visible in ``/api/analytics/windows`` (the first window holding the run's orders; skipped with
  ``--no-window``, since it can take a minute and more for that window to close).
- The achieved arrival rate, accepted and failed orders, order and list latency (p50/p95/max, each
  request timed from its own start; ``late`` is how far the generator started arrivals behind
  schedule), and the machine.

The stack is the local one ``ecomctl`` sees: ``ECOMCTL_STATE_DIR``/``ECOMCTL_PORT_OFFSET``, or
``--state-dir``/``--port-offset``. The bench reads its stores directly (the orders database for the
outbox, the notifications table), which is why it is for local stacks only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncmy
import httpx

from ecomctl.errors import EcomctlError
from ecomctl.local.platform import LocalPlatform
from ecomctl.scaletest import cpu, dataset
from ecomctl.scaletest.run import LOAD_GENERATOR, Target, machine, resolve_target
from ecomctl.settings import Settings
from services.kit.dynamo import DynamoClient, from_item, to_item

STACK = "stack"
POLL_S = 0.5
WINDOW_S = 60
LIST_PATH = "/api/products?limit=20"


def percentiles(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p95 and max (nearest rank), rounded; ``None`` for an empty list."""
    if not values:
        return {"p50": None, "p95": None, "max": None}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"p50": round(rank(0.50), 3), "p95": round(rank(0.95), 3), "max": round(ordered[-1], 3)}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Accepted:
    user_id: str
    created_at: datetime  # when the orders service accepted it (UTC)


@dataclass
class Load:
    """What the load generator saw."""

    arrivals: int = 0
    sending_s: float = 0.0
    accepted: dict[str, Accepted] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)
    list_failed: Counter[str] = field(default_factory=Counter)
    order_ms: list[float] = field(default_factory=list)
    list_ms: list[float] = field(default_factory=list)
    late_ms: list[float] = field(default_factory=list)


@dataclass
class Stack:
    """The local stack under test: its API, its processes and its stores."""

    target: Target
    platform: LocalPlatform

    @property
    def mysql(self) -> dict[str, Any]:
        return {"host": self.platform.mysql_host, "port": self.platform.mysql_port, "user": "root",
                "password": self.platform.mysql_root_password, "database": "orders"}


def open_stack(state_dir: str | None, port_offset: int | None) -> Stack:
    environ = dict(os.environ)
    if state_dir:
        environ["ECOMCTL_STATE_DIR"] = state_dir
    if port_offset is not None:
        environ["ECOMCTL_PORT_OFFSET"] = str(port_offset)
    target = resolve_target(None, None, environ)
    return Stack(target, LocalPlatform(Settings.load(environ)))


# -- the shoppers -------------------------------------------------------------------------------------


def log_in(url: str, accounts: Sequence[tuple[str, str]], progress: Callable[[str], None]) -> list[str]:
    """A bearer token per account; a login the users service throttles (503, Retry-After) waits and retries."""
    progress(f"logging in {len(accounts)} shoppers")
    tokens = []
    with httpx.Client(base_url=url, timeout=60) as api:
        for email, password in accounts:
            for attempt in range(10):
                answer = api.post("/api/auth/login", json={"email": email, "password": password})
                if answer.status_code == 200:
                    tokens.append(answer.json()["access_token"])
                    break
                wait = answer.headers.get("Retry-After", "")
                if answer.status_code != 503 or not wait.isdigit() or attempt == 9:
                    raise EcomctlError(f"login of {email}: HTTP {answer.status_code} {answer.text[:200]}")
                time.sleep(min(float(wait), 5.0))
    return tokens


# -- the load -----------------------------------------------------------------------------------------


async def arrival(http: aiohttp.ClientSession, url: str, token: str, product: str, load: Load) -> None:
    """One iteration of the seed's stress loop: order one unit of ``product``, then list products."""
    started = time.monotonic()
    try:
        async with http.post(f"{url}/api/orders", json={"items": [{"product_id": product, "quantity": 1}]},
                             headers={"Authorization": f"Bearer {token}"}) as answer:
            body = await answer.read()
            if answer.status == 201:
                order = json.loads(body)
                load.accepted[order["id"]] = Accepted(order["user_id"], parse_time(order["created_at"]))
                load.order_ms.append(1000 * (time.monotonic() - started))
            else:
                load.failed[f"HTTP {answer.status}"] += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        load.failed[type(exc).__name__] += 1
    started = time.monotonic()
    try:
        async with http.get(f"{url}{LIST_PATH}") as answer:
            await answer.read()
            if answer.status == 200:
                load.list_ms.append(1000 * (time.monotonic() - started))
            else:
                load.list_failed[f"HTTP {answer.status}"] += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        load.list_failed[type(exc).__name__] += 1


async def drive(url: str, tokens: Sequence[str], products: Sequence[str], rate: float, duration_s: float,
                max_in_flight: int, timeout_s: float, seed: int) -> Load:
    """``rate`` arrivals a second, evenly spaced, for ``duration_s`` (open loop); waits for the last answers."""
    load, chooser = Load(), random.Random(seed)
    count = max(1, round(rate * duration_s))
    connector = aiohttp.TCPConnector(limit=max_in_flight, limit_per_host=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s)) as http:
        in_flight: set[asyncio.Task[None]] = set()
        began = time.monotonic()
        for i in range(count):
            due = began + i / rate
            if (wait := due - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            load.late_ms.append(1000 * max(0.0, time.monotonic() - due))
            load.arrivals += 1
            if len(in_flight) >= max_in_flight:
                load.failed["not sent: too many in flight"] += 1
                continue
            task = asyncio.create_task(arrival(http, url, tokens[i % len(tokens)], chooser.choice(products), load))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        load.sending_s = time.monotonic() - began + 1 / rate
        if in_flight:
            await asyncio.wait(in_flight)
    return load


# -- the follow-on work -------------------------------------------------------------------------------


async def sql(stack: Stack, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = await asyncmy.connect(**stack.mysql)
    try:
        async with conn.cursor() as cur:
            await cur.execute(query, args)
            return list(await cur.fetchall())
    finally:
        conn.close()


async def marks(stack: Stack) -> tuple[int, int]:
    """The newest order ``seq`` and outbox ``id`` now: the run's rows come after them."""
    rows = await sql(stack, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM orders),"
                            " (SELECT COALESCE(MAX(id), 0) FROM outbox)")
    return int(rows[0][0]), int(rows[0][1])


def notifications_sent(stack: Stack) -> float | None:
    """The notifications service's ``notifications_sent_total`` (all types), from its own /metrics."""
    with suppress(httpx.HTTPError):
        text = httpx.get(f"{stack.platform.service_url('notifications')}/metrics", timeout=5).text
        return sum(float(v) for v in re.findall(r"^notifications_sent_total\{[^}]*\} (\S+)$", text, re.MULTILINE))
    return None


class Notifications:
    """The run's notifications, read from the notifications table with the kit's DynamoDB client."""

    def __init__(self, stack: Stack, since: datetime) -> None:
        env = stack.platform.aws_env
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the client reads botocore's chain (env)
            os.environ.setdefault(key, env[key])
        self.client = DynamoClient(env["AWS_REGION"], endpoint=env["AWS_ENDPOINT_URL_DYNAMODB"])
        self.table = stack.platform.service_env("notifications")["TABLE_NOTIFICATIONS"]
        self.since = since.strftime("%Y-%m-%dT%H:%M:%S")  # notification ids begin with the event's time
        self.stored: dict[str, datetime] = {}  # order id -> the notification's sent_at

    async def read(self, user_id: str, wanted: set[str]) -> None:
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "user_id = :u AND notification_id >= :s",
            "ExpressionAttributeValues": to_item({":u": user_id, ":s": self.since}),
            "ProjectionExpression": "order_id, sent_at, #t", "ExpressionAttributeNames": {"#t": "type"},
        }
        while True:
            answer = await self.client.call("Query", request)
            for item in answer.get("Items", []):
                values = from_item(item)
                if values.get("order_id") in wanted and values.get("type") == "order.created":
                    self.stored[str(values["order_id"])] = parse_time(str(values["sent_at"]))
            if "LastEvaluatedKey" not in answer:
                return
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    async def missing(self, accepted: dict[str, Accepted]) -> int:
        """Read the users whose notifications are not all found yet; how many are still missing."""
        users: dict[str, set[str]] = {}
        for order_id, order in accepted.items():
            if order_id not in self.stored:
                users.setdefault(order.user_id, set()).add(order_id)
        await asyncio.gather(*(self.read(user, wanted) for user, wanted in users.items()))
        return sum(1 for order_id in accepted if order_id not in self.stored)


async def stored_orders(stack: Stack, seq: int) -> dict[str, Accepted]:
    """Every order stored after ``seq``: the accepted ones, and any answered with an error (a gateway
    timeout, say) after the orders service had stored it: their follow-on work is the run's too."""
    rows = await sql(stack, "SELECT id, user_id, created_at FROM orders WHERE seq > %s", (seq,))
    return {order_id: Accepted(user_id, created.replace(tzinfo=UTC)) for order_id, user_id, created in rows}


@dataclass
class Drained:
    drained: bool
    seconds_after_load: float
    outbox_unsent: int
    notifications_missing: int
    stored: dict[str, Accepted]  # the orders stored during the run
    seconds: dict[str, float]  # CPU seconds per component from the load's start until the work was done
    measured_s: float


async def drain(stack: Stack, load: Load, order_mark: int, notes: Notifications, sent_before: float | None,
                meter: cpu.CpuMeter, timeout_s: float, progress: Callable[[str], None]) -> Drained:
    """Wait until the outbox holds no unsent row and every order stored during the run has its
    notification stored (at most ``timeout_s``). The notifications service's counter is the cheap
    signal; the table is read once it says enough were sent (or when it cannot tell: unknown, reset).
    The CPU is read before that check's own reads of the table, so they are not counted."""
    began = time.monotonic()
    deadline = began + timeout_s
    progress(f"waiting for the follow-on work of {len(load.accepted)} accepted orders (at most {timeout_s:.0f} s)")
    stored: dict[str, Accepted] = {}
    while True:
        unsent, count = (await sql(stack, "SELECT (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL),"
                                          " (SELECT COUNT(*) FROM orders WHERE seq > %s)", (order_mark,)))[0]
        if count != len(stored):  # an order answered with an error may still be committing
            stored = await stored_orders(stack, order_mark)
        sent_now = await asyncio.to_thread(notifications_sent, stack)
        counter_done = (sent_before is None or sent_now is None or sent_now < sent_before
                        or sent_now - sent_before >= len(stored))
        over = time.monotonic() >= deadline
        if (unsent == 0 and counter_done) or over:
            seconds, measured_s = meter.read(), time.monotonic() - meter.since
            missing = await notes.missing(stored)
            if (unsent == 0 and missing == 0) or over:
                return Drained(unsent == 0 and missing == 0, round(time.monotonic() - began, 2), int(unsent),
                               missing, stored, seconds, measured_s)
        await asyncio.sleep(POLL_S)


async def kafka_delays(stack: Stack, load: Load, outbox_mark: int) -> list[float]:
    """Seconds from each accepted order to its event on Kafka (the outbox row's ``sent_at``; MariaDB's
    ``NOW(6)`` is in the server's time zone, so its offset from UTC is read first)."""
    offset = (await sql(stack, "SELECT TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), NOW(6))"))[0][0]
    rows = await sql(stack, "SELECT msg_key, sent_at FROM outbox WHERE id > %s AND sent_at IS NOT NULL",
                     (outbox_mark,))
    shift = timedelta(microseconds=int(offset))
    delays = []
    for order_id, sent_at in rows:
        order = load.accepted.get(order_id)
        if order is not None:
            delays.append(((sent_at - shift).replace(tzinfo=UTC) - order.created_at).total_seconds())
    return delays


async def window(url: str, load: Load, timeout_s: float, progress: Callable[[str], None]) -> dict[str, Any]:
    """The first 1-minute window holding the run's orders: when it became visible in the analytics API."""
    first = min(o.created_at for o in load.accepted.values())
    start = first.replace(second=0, microsecond=0)
    end = start + timedelta(seconds=WINDOW_S)
    key = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    ours = [o.created_at for o in load.accepted.values() if start <= o.created_at < end]
    progress(f"waiting for the window {key} in the analytics API (at most {timeout_s:.0f} s)")
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while time.monotonic() < deadline:
            with suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(f"{url}/api/analytics/windows", params={"limit": "5"}) as answer:
                    items = (await answer.json())["items"] if answer.status == 200 else []
                found = next((w for w in items if w["window_start"] == key), None)
                if found is not None:
                    seen = datetime.now(UTC)
                    return {"window_start": key, "visible": True, "orders_in_window": found["orders"],
                            "run_orders_in_window": len(ours),
                            "after_window_end_s": round((seen - end).total_seconds(), 2),
                            "order_to_visible_s": percentiles([(seen - t).total_seconds() for t in ours])}
            await asyncio.sleep(1.0)
    return {"window_start": key, "visible": False, "run_orders_in_window": len(ours),
            "detail": f"not visible within {timeout_s:.0f} s"}


# -- one run ------------------------------------------------------------------------------------------


def per_order_ms(seconds: dict[str, float], orders: int) -> dict[str, float]:
    if not orders:
        return {}
    stack = sum(v for k, v in seconds.items() if k not in (LOAD_GENERATOR, cpu.OTHER))
    ranked = sorted(seconds.items(), key=lambda kv: -kv[1])
    return {STACK: round(1000 * stack / orders, 3), **{k: round(1000 * v / orders, 3) for k, v in ranked}}


async def measure(stack: Stack, args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    # the seeding runs an event loop of its own: off this one
    data = await asyncio.to_thread(dataset.prepare, stack.target.url, stack.target.admin, args.shoppers, progress)
    tokens = await asyncio.to_thread(log_in, stack.target.url, data.shoppers[:args.shoppers], progress)
    meter = cpu.CpuMeter({**stack.target.components, LOAD_GENERATOR: os.getpid()})
    idle: dict[str, float] = {}
    if args.idle > 0:
        progress(f"measuring the stack at rest for {args.idle:.0f} s")
        meter.start()
        await asyncio.sleep(args.idle)
        idle_s = time.monotonic() - meter.since
        idle = {k: v / idle_s for k, v in meter.read().items() if k not in (LOAD_GENERATOR, cpu.OTHER)}
    order_mark, outbox_mark = await marks(stack)
    notes = Notifications(stack, datetime.now(UTC) - timedelta(seconds=1))
    sent_before = await asyncio.to_thread(notifications_sent, stack)
    load_before = os.getloadavg()[0]
    progress(f"{args.rate:g} arrivals/s for {args.duration:g} s (an order and a product list each)")
    meter.start()
    load = await drive(stack.target.url, tokens, data.order_products, args.rate, args.duration,
                       args.max_in_flight, args.timeout, args.seed)
    load_s = time.monotonic() - meter.since
    drained = await drain(stack, load, order_mark, notes, sent_before, meter, args.drain_timeout, progress)
    seconds, measured_s = drained.seconds, drained.measured_s
    load_after = os.getloadavg()[0]
    await notes.client.close()
    accepted = len(load.accepted)
    note_delays = [(notes.stored[o] - a.created_at).total_seconds() for o, a in load.accepted.items()
                   if o in notes.stored]
    above_idle = {k: max(0.0, v - idle[k] * measured_s) for k, v in seconds.items() if k in idle}
    result: dict[str, Any] = {
        "rate_per_s": args.rate, "duration_s": args.duration, "shoppers": len(tokens),
        "arrivals": load.arrivals, "arrivals_per_s": round(load.arrivals / load.sending_s, 2),
        "orders": {"accepted": accepted, "failed": sum(load.failed.values()), "failures": dict(load.failed),
                   "accepted_per_s": round(accepted / load.sending_s, 2),
                   "stored": len(drained.stored), "accepted_not_stored": len(set(load.accepted) - set(drained.stored)),
                   "failed_but_stored": len(set(drained.stored) - set(load.accepted))},
        "latency_ms": {"order": percentiles(load.order_ms), "list": percentiles(load.list_ms),
                       "late_start": percentiles(load.late_ms)},
        "lists": {"ok": len(load.list_ms), "failed": sum(load.list_failed.values()),
                  "failures": dict(load.list_failed)},
        "follow_on": {"drained": drained.drained, "drain_s": drained.seconds_after_load,
                      "outbox_unsent": drained.outbox_unsent, "notifications_missing": drained.notifications_missing,
                      "notifications_stored": len(notes.stored),
                      "accepted_notifications_stored": len(set(notes.stored) & set(load.accepted))},
        "cpu": {"load_s": round(load_s, 2), "measured_s": round(measured_s, 2),
                "seconds": {k: round(v, 3) for k, v in sorted(seconds.items(), key=lambda kv: -kv[1])},
                "per_order_ms": per_order_ms(seconds, accepted),
                "stack_per_stored_order_ms": per_order_ms(seconds, len(drained.stored)).get(STACK),
                "idle_cores": {k: round(v, 4) for k, v in idle.items()},
                "above_idle_per_order_ms": per_order_ms(above_idle, accepted) if idle else {},
                "load_generator_s": round(seconds.get(LOAD_GENERATOR, 0.0), 3)},
        "delays_s": {"kafka": percentiles(await kafka_delays(stack, load, outbox_mark)),
                     "notification": percentiles(note_delays)},
        "machine": {**machine(), "load_average": [round(load_before, 2), round(load_after, 2)]},
    }
    if args.no_window or not accepted:
        result["window"] = {"skipped": True, "detail": "--no-window" if args.no_window else "no accepted order"}
    else:
        result["window"] = await window(stack.target.url, load, args.window_timeout, progress)
    return result


# -- output -------------------------------------------------------------------------------------------


def _p(figures: dict[str, float | None], unit: str, scale: float = 1.0) -> str:
    if figures["p50"] is None:
        return "-"
    digits = 0 if scale > 1 else 2
    return " / ".join(f"{scale * float(figures[k] or 0.0):.{digits}f}" for k in ("p50", "p95", "max")) + unit


def table(result: dict[str, Any]) -> str:
    orders, lat, cpu_, delays, win = (result["orders"], result["latency_ms"], result["cpu"], result["delays_s"],
                                      result["window"])
    m = result["machine"]
    follow = result["follow_on"]
    lines = [
        f"Machine: {m['cores']} cores ({m['model']}), {m['system']}; load average {m['load_average'][0]} before, "
        f"{m['load_average'][1]} after",
        f"Load: {result['rate_per_s']:g} arrivals/s for {result['duration_s']:g} s, {result['shoppers']} shoppers: "
        f"{result['arrivals']} arrivals ({result['arrivals_per_s']}/s achieved)",
        f"Orders: {orders['accepted']} accepted ({orders['accepted_per_s']}/s), {orders['failed']} failed"
        + (f" {orders['failures']}" if orders["failures"] else "")
        + f"; lists: {result['lists']['ok']} ok, {result['lists']['failed']} failed",
        f"Stored in MySQL during the run: {orders['stored']} orders ({orders['failed_but_stored']} answered with an "
        f"error but stored, {orders['accepted_not_stored']} accepted but not stored)",
        f"Follow-on work {'drained' if follow['drained'] else 'NOT drained'} {follow['drain_s']} s after the load "
        f"(outbox unsent {follow['outbox_unsent']}, notifications missing {follow['notifications_missing']})",
        "",
        "| latency (p50 / p95 / max) | |",
        "|---|---|",
        f"| order | {_p(lat['order'], ' ms')} |",
        f"| product list | {_p(lat['list'], ' ms')} |",
        f"| arrival started late by | {_p(lat['late_start'], ' ms')} |",
        f"| order accepted -> event on Kafka | {_p(delays['kafka'], ' ms', 1000)} |",
        f"| order accepted -> notification stored | {_p(delays['notification'], ' ms', 1000)} |",
    ]
    if win.get("skipped"):
        lines.append(f"| order accepted -> window visible | skipped ({win['detail']}) |")
    elif win["visible"]:
        lines.append(f"| order accepted -> window visible | {_p(win['order_to_visible_s'], ' s')} "
                     f"(window {win['window_start']}: {win['after_window_end_s']} s after its end, "
                     f"{win['run_orders_in_window']} of its {win['orders_in_window']} orders from this run) |")
    else:
        lines.append(f"| order accepted -> window visible | window {win['window_start']} {win['detail']} |")
    above = cpu_["above_idle_per_order_ms"]
    lines += ["", f"CPU per accepted order over {cpu_['measured_s']} s (the load {cpu_['load_s']} s, then the "
              "follow-on work):", "",
              "| component | CPU s | ms per order |" + (" above rest, ms | at rest, cores |" if above else ""),
              "|---|---|---|" + ("---|---|" if above else "")]
    for name, ms in cpu_["per_order_ms"].items():
        seconds = sum(v for k, v in cpu_["seconds"].items() if k not in (LOAD_GENERATOR, cpu.OTHER)) \
            if name == STACK else cpu_["seconds"][name]
        label = {STACK: "**whole stack**", LOAD_GENERATOR: "load generator (not counted)",
                 cpu.OTHER: "everything else (not counted)"}.get(name, name)
        row = f"| {label} | {seconds:.2f} | {ms:.2f} |"
        if above:
            rest = sum(cpu_["idle_cores"].values()) if name == STACK else cpu_["idle_cores"].get(name)
            row += (f" {above[name]:.2f} | {rest:.3f} |" if name in above and rest is not None else " | |")
        lines.append(row)
    if orders["failed_but_stored"]:
        lines += ["", f"Per stored order (the failed-but-stored ones cost their follow-on work too): "
                  f"{cpu_['stack_per_stored_order_ms']:.2f} ms, whole stack"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=50.0, help="arrivals (orders) per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--shoppers", type=int, default=50, help="logged-in accounts the orders come from")
    parser.add_argument("--idle", type=float, default=10.0, metavar="S",
                        help="first measure the stack at rest for S seconds (0: not)")
    parser.add_argument("--drain-timeout", type=float, default=180.0, metavar="S",
                        help="wait at most S seconds after the load for the follow-on work")
    parser.add_argument("--no-window", action="store_true", help="do not wait for the analytics window")
    parser.add_argument("--window-timeout", type=float, default=180.0, metavar="S")
    parser.add_argument("--max-in-flight", type=int, default=1000, help="arrivals in flight at most")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=1, help="of the random product choice")
    parser.add_argument("--state-dir", help="the stack's state directory (default: ECOMCTL_STATE_DIR)")
    parser.add_argument("--port-offset", type=int, help="the stack's port offset (default: ECOMCTL_PORT_OFFSET)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or not 1 <= args.shoppers <= dataset.MAX_SHOPPERS:
        parser.error(f"--rate and --duration must be > 0, --shoppers 1-{dataset.MAX_SHOPPERS}")
    if not cpu.available():
        print("error: CPU accounting needs Linux /proc", file=sys.stderr)
        return 2

    def progress(message: str) -> None:
        print(f"[order_cost] {message}", file=sys.stderr, flush=True)

    try:
        stack = open_stack(args.state_dir, args.port_offset)
        result = asyncio.run(measure(stack, args, progress))
    except EcomctlError as exc:
        print(f"error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0 if result["follow_on"]["drained"] else 1


if __name__ == "__main__":
    sys.exit(main())
