"""``bench/order_cost.py`` on the test stack: what it counts is what the stores hold."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import asyncmy
import httpx
import pytest

from ecomctl.local import prometheus
from ecomctl.local.platform import LocalPlatform
from services.kit.dynamo import DynamoClient, from_item, to_item

pytestmark = [pytest.mark.platform, pytest.mark.slow]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "order_cost.py"
# the components every order goes through: the request path, the relay, the notification path
WORKED = {"api-gateway", "orders", "mariadb", "kafka", "dynamodb", "notifications", "awsapi"}


def top_seq(platform: LocalPlatform) -> int:
    return int(asyncio.run(_query(platform, "SELECT COALESCE(MAX(seq), 0) FROM orders"))[0][0])


def orders_after(platform: LocalPlatform, seq: int) -> dict[str, str]:
    """order id -> user id of every order stored after ``seq``."""
    rows = asyncio.run(_query(platform, "SELECT id, user_id FROM orders WHERE seq > %s", (seq,)))
    return {order_id: user_id for order_id, user_id in rows}


async def _query(platform: LocalPlatform, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                 password=platform.mysql_root_password, database="orders")
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())
    finally:
        conn.close()


def stored_notifications(platform: LocalPlatform, orders: dict[str, str],
                         monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """order id -> how many ``order.created`` notifications the notifications table holds for it."""
    aws = platform.aws_env
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", aws["AWS_ACCESS_KEY_ID"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", aws["AWS_SECRET_ACCESS_KEY"])
    table = platform.service_env("notifications")["TABLE_NOTIFICATIONS"]

    async def read() -> Counter[str]:
        client = DynamoClient(aws["AWS_REGION"], endpoint=aws["AWS_ENDPOINT_URL_DYNAMODB"])
        found: Counter[str] = Counter()
        try:
            for user_id in set(orders.values()):
                request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "user_id = :u",
                                           "ExpressionAttributeValues": to_item({":u": user_id})}
                while True:
                    answer = await client.call("Query", request)
                    for item in map(from_item, answer.get("Items", [])):
                        if item.get("order_id") in orders and item.get("type") == "order.created":
                            found[str(item["order_id"])] += 1
                    if "LastEvaluatedKey" not in answer:
                        break
                    request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        finally:
            await client.close()
        return found

    return asyncio.run(read())


def prometheus_caught_up(platform: LocalPlatform, timeout_s: float = 60) -> None:
    """Wait (bounded) until the stack's Prometheus has scraped the orders service's order counter as it
    is now: a later test that reads the counter's growth over its own run then sees none of ours."""
    text = httpx.get(f"{platform.service_url('orders')}/metrics", timeout=10).text
    now = sum(float(v) for v in re.findall(r"^orders_created_total(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen = prometheus.query(platform.prometheus_url, "sum(orders_created_total)")
        if seen and float(seen[0]["value"][1]) >= now:
            return
        time.sleep(1)


def test_a_small_run_counts_what_the_stores_hold(platform: LocalPlatform, platform_environ: dict[str, str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = top_seq(platform)
    try:
        done = subprocess.run(
            [sys.executable, str(BENCH), "--rate", "10", "--duration", "5", "--shoppers", "5", "--idle", "0",
             "--no-window", "--drain-timeout", "120", "--json"],
            env=platform_environ, capture_output=True, text=True, timeout=600,
        )
    finally:
        prometheus_caught_up(platform)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    created = orders_after(platform, before)

    orders = result["orders"]
    assert result["arrivals"] == 50
    assert orders["accepted"] + orders["failed"] == 50
    assert orders["accepted"] == len(created) > 0  # every order it counted, and no other, is stored
    assert orders["stored"] == len(created) and orders["accepted_not_stored"] == 0
    assert result["lists"]["ok"] + result["lists"]["failed"] == 50

    notified = stored_notifications(platform, created, monkeypatch)
    follow = result["follow_on"]
    assert follow["drained"] is True and follow["outbox_unsent"] == 0 and follow["notifications_missing"] == 0
    assert follow["notifications_stored"] == len(notified) == len(created)  # the ones it waited for are stored
    assert set(notified.values()) == {1}  # once each

    cpu = result["cpu"]
    assert {name for name, seconds in cpu["seconds"].items() if seconds > 0} >= WORKED
    assert cpu["load_generator_s"] > 0
    stack = sum(v for k, v in cpu["seconds"].items() if k not in ("load generator", "everything else"))
    assert cpu["per_order_ms"]["stack"] == pytest.approx(1000 * stack / len(created), rel=0.01)
    assert cpu["measured_s"] >= cpu["load_s"] >= 5 * 0.8  # the follow-on work after the load counts too

    delays = result["delays_s"]
    for figure in (delays["kafka"], delays["notification"]):
        assert figure["p50"] is not None and 0 <= figure["p50"] <= figure["p95"] <= figure["max"]
    assert result["window"]["skipped"] is True
    assert result["machine"]["cores"] and result["machine"]["model"]
