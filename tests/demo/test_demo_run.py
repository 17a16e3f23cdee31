"""``ecomctl demo --duration 90 --json`` against the test stack, checked against the stores."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncmy
import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.conftest import run_ecomctl

pytestmark = [pytest.mark.platform, pytest.mark.slow]


def wait_for_second(second: int) -> None:
    """Sleep until the wall clock is at ``second`` past a minute (so a 90 s run spans a whole window)."""
    now = time.time()
    time.sleep((second - now % 60) % 60)


def orders_created(platform: LocalPlatform, since: datetime, until: datetime) -> tuple[int, Decimal]:
    async def query() -> tuple[int, Decimal]:
        conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                     password=platform.mysql_root_password, database="orders")
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT COUNT(*), COALESCE(SUM(total), 0) FROM orders "
                                  "WHERE created_at >= %s AND created_at <= %s",
                                  (since.replace(tzinfo=None), until.replace(tzinfo=None)))
                count, total = await cur.fetchone()
                return int(count), Decimal(total)
        finally:
            conn.close()

    return asyncio.run(query())


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.timeout(480)
def test_demo_summary_matches_the_stores(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    # Orders from second ~20 of a minute on: the minute's window closes 5 s after its end
    # while traffic still flows (watermark = newest event - 5 s), well inside the 90 s.
    wait_for_second(15)
    done = run_ecomctl(["demo", "--duration", "90", "--rate", "2", "--json"], platform_environ, timeout=400)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["errors"] == 0, (summary["last_errors"], summary["endpoints"])
    count, total = orders_created(platform, parse(summary["started_at"]), parse(summary["ended_at"]))
    assert summary["orders_placed"] == count > 0
    assert Decimal(summary["revenue"]) == total

    assert summary["windows"], "no window of the run closed (orders start ~45 s before a minute ends)"
    served = httpx.get(f"{platform.gateway_url}/api/analytics/windows", params={"limit": 20}).json()["items"]
    by_start = {w["window_start"]: w for w in served}
    for window in summary["windows"]:
        assert Decimal(window["revenue"]) == Decimal(by_start[window["window_start"]]["revenue"]), window
        assert window["orders"] == by_start[window["window_start"]]["orders"]
        assert window["visible_after_s"] >= 0

    assert summary["notification_delays_s"], "no notification followed an order"
    assert all(0 <= d < 60 for d in summary["notification_delays_s"])
    assert any(u["status"] == "ok" and u["lines"] >= 1 for u in summary["uploads"]), summary["uploads"]
    assert set(summary["endpoints"]) >= {"catalogue", "orders", "notifications", "uploads", "analytics"}
