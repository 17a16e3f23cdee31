"""``ecomctl scale-test`` against the test stack: its figures agree with the stores."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncmy
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.conftest import run_ecomctl

pytestmark = [pytest.mark.platform, pytest.mark.slow]


def orders_after(platform: LocalPlatform, seq: int | None = None) -> tuple[int, set[str]]:
    """The highest order ``seq`` now, and the ids of the orders stored after ``seq``."""

    async def query() -> tuple[int, set[str]]:
        conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                     password=platform.mysql_root_password, database="orders")
        try:
            async with conn.cursor() as cur:
                await cur.execute("SELECT COALESCE(MAX(seq), 0) FROM orders")
                (top,) = await cur.fetchone()
                ids: set[str] = set()
                if seq is not None:
                    await cur.execute("SELECT id FROM orders WHERE seq > %s", (seq,))
                    ids = {row[0] for row in await cur.fetchall()}
                return int(top), ids
        finally:
            conn.close()

    return asyncio.run(query())


def test_smoke_passes_and_counts_what_the_stores_hold(platform: LocalPlatform, platform_environ: dict[str, str],
                                                      tmp_path: Path) -> None:
    before, _ = orders_after(platform)
    done = run_ecomctl(["scale-test", "--profile", "smoke", "--duration", "20", "--json", "--report", str(tmp_path)],
                       platform_environ)
    _, created = orders_after(platform, before)
    assert done.returncode == 0, done.stderr[-2000:]
    summary: dict[str, Any] = json.loads(done.stdout)
    assert summary["verdict"] == "pass"
    assert summary["orders"]["accepted"] == len(created) > 0  # every order it counted, and no other, is stored
    assert summary["groups"]["all"]["failures"] == 0
    assert {"products.list", "products.get", "orders.create", "auth.login"} <= set(summary["groups"])
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["orders"]["accepted"] == len(created)
    assert len(report["ticks"]) >= 15 and report["cpu"]["totals_s"]  # a series, and where the CPU went
    assert {"api-gateway", "orders", "mariadb"} <= set(report["cpu"]["totals_s"])
    per_order, totals = report["cpu"]["per_order_ms"], report["cpu"]["totals_s"]
    assert per_order["orders"] == pytest.approx(1000 * totals["orders"] / len(created), abs=0.01)
    assert report["cpu"]["samples"][-1].get("after_load")  # the follow-on work is counted
    # the server side, from the stack's Prometheus: its order counter grew by exactly the run's orders,
    # the notification delay was measured, and the dashboard's request panel shows the order route
    server = report["prometheus"]
    assert server["figures"]["orders_created"] == len(created), server["figures"]
    assert server["figures"]["notification_delay_p95_s"] is not None
    requests = next(p for p in server["panels"] if p["title"].startswith("Requests per second"))
    assert any(name.startswith("orders ") and max(v for _, v in points) > 0
               for name, points in requests["series"].items()), sorted(requests["series"])


def test_an_impossible_threshold_fails_the_run_and_is_named(platform_environ: dict[str, str]) -> None:
    done = run_ecomctl(["scale-test", "--duration", "8", "--threshold", "p95=1ms", "--json"], platform_environ)
    assert done.returncode == 1, done.stderr[-2000:]
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["p95=1ms"]["passed"] is False and "limit 1 ms" in checks["p95=1ms"]["detail"]
    assert checks["no order lost"]["passed"] is True


def test_ctrl_c_stops_the_load_and_still_writes_the_report(platform_environ: dict[str, str], tmp_path: Path) -> None:
    run = subprocess.Popen(
        [sys.executable, "-m", "ecomctl", "scale-test", "--duration", "120", "--report", str(tmp_path)],
        env=platform_environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background job inherits it ignored
    )
    deadline = time.monotonic() + 180  # the data first (accounts, products), then the load generator
    while not (tmp_path / "locust.log").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(8)
    os.kill(run.pid, signal.SIGINT)
    _out, err = run.communicate(timeout=90)
    assert "Traceback" not in err, err
    assert run.returncode in (0, 1), err
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["interrupted"] is True and report["duration_s"] < 60
    assert (tmp_path / "report.html").exists()
