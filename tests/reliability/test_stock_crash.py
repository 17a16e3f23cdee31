"""A crash between the steps of an order's multi-step write loses no unit and sells none twice.

An orders process started with ``ECOMCTL_CRASH_AT=orders.<point>`` SIGKILLs itself at that point; then one
reconciliation pass (what every orders process runs in the background) must leave, per product:
units in stock + units in live orders = units ever stocked.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, product_item, stock_of

pytestmark = [pytest.mark.platform, pytest.mark.slow]
STOCKED = 10


@contextmanager
def crashing_orders(platform: LocalPlatform, point: str, port: int) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, **platform.service_env("orders"), "PORT": str(port), "ECOMCTL_CRASH_AT": f"orders.{point}"}
    process = subprocess.Popen([sys.executable, "-m", "services.orders"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, "the orders process died before it was ready"
            time.sleep(0.3)
        else:
            raise AssertionError("the orders process did not become ready")
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def _live_units(platform: LocalPlatform, product_id: str) -> tuple[int, int]:
    """(units in live orders of the product, orders of it stored) straight from MySQL."""
    from services.kit import mysql
    from services.orders.settings import Settings

    settings = Settings.from_env(platform.service_env("orders"))

    async def query() -> tuple[int, int]:
        pool = await mysql.create_pool(settings.mysql)
        try:
            row = await mysql.fetch_one(
                pool,
                "SELECT COALESCE(SUM(CASE WHEN o.status = 'created' THEN i.quantity END), 0), COUNT(*)"
                " FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.product_id = %s",
                (product_id,),
            )
        finally:
            await mysql.close_pool(pool)
        assert row is not None
        return int(row[0]), int(row[1])

    return asyncio.run(query())


def _reconcile(platform: LocalPlatform) -> Any:
    """One reconciliation pass with no grace (nothing else is writing these products' orders)."""
    from services.kit import mysql
    from services.kit.dynamo import DynamoClient
    from services.orders.reconcile import StockReconciler
    from services.orders.settings import Settings
    from services.orders.stock import StockLedger
    from services.orders.store import OrderStore

    settings = Settings.from_env(platform.service_env("orders"))

    async def once() -> Any:
        pool = await mysql.create_pool(settings.mysql)
        stock = StockLedger(DynamoClient(settings.aws.region), settings.table_products)
        try:
            reconciler = StockReconciler(OrderStore(pool), stock, interval_s=1, grace_s=0)
            first = await reconciler.run_once()
            await asyncio.sleep(0.5)  # markers settled by the first pass are removed in the background
            return first, await reconciler.run_once()
        finally:
            await mysql.close_pool(pool)
            await stock.dynamo.close()

    return asyncio.run(once())


def _markers(platform: LocalPlatform, product_id: str) -> list[str]:
    return sorted(k for k in product_item(platform, product_id) if k.startswith(("hold_", "rel_")))


@pytest.mark.parametrize("point", ["reserved", "stored", "cancelled", "restocked"])
def test_stock_and_orders_reconcile_after_a_crash(
    point: str, platform: LocalPlatform, api: httpx.Client, user: Account,
    new_product: Callable[..., dict[str, Any]], aws_environ: Callable[[str], dict[str, str]],
) -> None:
    aws_environ("orders")
    product_id = new_product(stock=STOCKED)["product_id"]
    line = {"product_id": product_id, "quantity": 3}
    placed: dict[str, Any] = {}
    if point in {"cancelled", "restocked"}:
        answer = api.post("/api/orders", headers=user.headers, json=line)
        assert answer.status_code == 201, answer.text
        placed = answer.json()
    port = _free_port()
    with crashing_orders(platform, point, port) as process:
        path = f"/api/orders/{placed['id']}/cancel" if placed else "/api/orders"
        with pytest.raises(httpx.TransportError):  # the process dies mid-request
            httpx.post(f"http://127.0.0.1:{port}{path}", headers=user.headers, json=line, timeout=30)
        assert process.wait(timeout=30) != 0  # its worker was SIGKILLed (the server process then exits 1)

    live, _ = _live_units(platform, product_id)
    if point in {"reserved", "cancelled"}:  # the defect this guards: units held by no order
        assert stock_of(platform, product_id) + live == STOCKED - 3
    first, second = _reconcile(platform)
    live, stored = _live_units(platform, product_id)
    assert stock_of(platform, product_id) + live == STOCKED
    assert stored == (0 if point == "reserved" else 1)
    assert first.holds_given_back == (1 if point == "reserved" else 0)
    assert second.holds_given_back == 0 and second.released == 0  # a second pass finds nothing to redo
    assert _markers(platform, product_id) == []


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
