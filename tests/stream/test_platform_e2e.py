"""End to end on the platform: orders through the public API -> outbox -> Kafka -> the Flink job (as
`ecomctl up` runs it, 1-minute windows) -> analytics-results -> the analytics service -> its API.

Two consecutive minutes of known orders and a cancellation, nothing after the last one: the
analytics API must show exactly the expected per-window figures and the last window's products.
Takes two to three minutes (real one-minute windows).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from blueprint.topology import TOPOLOGY
from tests.stream.harness import next_boundary, sleep_until, stamp

pytestmark = [pytest.mark.platform, pytest.mark.stream, pytest.mark.slow, pytest.mark.timeout(600)]
JOB = TOPOLOGY.stream_jobs[0]
W = JOB.window_seconds


def bearer(gateway: str, email: str, password: str) -> dict[str, str]:
    answer = httpx.post(f"{gateway}/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def new_user(gateway: str) -> dict[str, str]:
    email, password = f"e2e-{uuid.uuid4().hex[:10]}@example.com", "a long enough password"
    created = httpx.post(f"{gateway}/api/users", json={"name": "E2E", "email": email, "password": password})
    assert created.status_code == 201, created.text
    return bearer(gateway, email, password)


def new_product(gateway: str, admin: dict[str, str], price: str) -> str:
    created = httpx.post(f"{gateway}/api/products", headers=admin,
                         json={"name": f"e2e {uuid.uuid4().hex[:6]}", "price": price, "stock": 100})
    assert created.status_code == 201, created.text
    product_id: str = created.json()["product_id"]
    return product_id


def order(gateway: str, user: dict[str, str], product: str, quantity: int) -> dict[str, Any]:
    placed = httpx.post(f"{gateway}/api/orders", headers=user,
                        json={"items": [{"product_id": product, "quantity": quantity}]})
    assert placed.status_code == 201, placed.text
    body: dict[str, Any] = placed.json()
    return body


def windows_by_start(gateway: str) -> dict[str, dict[str, Any]]:
    page = httpx.get(f"{gateway}/api/analytics/windows", params={"limit": 20})
    assert page.status_code == 200, page.text
    return {w["window_start"]: w for w in page.json()["items"]}


def test_orders_to_analytics_api(platform: Any) -> None:
    gateway = platform.gateway_url
    admin = bearer(gateway, platform.admin_email, platform.admin_password)
    p1, p2 = new_product(gateway, admin, "12.50"), new_product(gateway, admin, "4.25")
    alice, bob = new_user(gateway), new_user(gateway)

    w0 = next_boundary(W, margin_s=0)  # a fresh minute: only these orders in it
    w1 = w0 + timedelta(seconds=W)
    sleep_until(w0 + timedelta(seconds=1))
    order(gateway, alice, p1, 2)
    bobs = order(gateway, bob, p2, 1)

    sleep_until(w1 + timedelta(seconds=1))
    cancelled = httpx.post(f"{gateway}/api/orders/{bobs['id']}/cancel", headers=bob)
    assert cancelled.status_code == 200, cancelled.text
    order(gateway, alice, p2, 3)

    # nothing after the last window: it must still appear, soon after its end + the watermark delay
    end = w1 + timedelta(seconds=W)
    deadline = end + timedelta(seconds=JOB.watermark_delay_s + 30)
    while stamp(w1) not in (found := windows_by_start(gateway)):
        assert datetime.now(UTC) < deadline, f"window {stamp(w1)} not served; have {sorted(found)}"
        time.sleep(0.5)
    seen_after = (datetime.now(UTC) - end).total_seconds() - JOB.watermark_delay_s
    print(f"last window served {seen_after:.1f}s after its end + watermark delay")

    def expect(start: datetime, **figures: Any) -> dict[str, Any]:
        return {"window_start": stamp(start), "window_end": stamp(start + timedelta(seconds=W)), **figures}

    assert found[stamp(w0)] == expect(w0, orders=2, units=3, revenue="29.25", unique_users=2, cancelled_orders=0)
    # Bob's cancellation counts in its own minute: -1 unit, -4.25
    assert found[stamp(w1)] == expect(w1, orders=1, units=2, revenue="8.50", unique_users=1, cancelled_orders=1)

    top = httpx.get(f"{gateway}/api/analytics/top-products", params={"limit": 100, "windows": 1})
    assert top.status_code == 200, top.text
    last_window = {p["product_id"]: p for p in top.json()["items"]}
    assert last_window == {p2: {"product_id": p2, "units": 2, "revenue": "8.50"}}  # 3 ordered, 1 cancelled
    top2 = httpx.get(f"{gateway}/api/analytics/top-products", params={"limit": 100, "windows": 2})
    two = {p["product_id"]: (p["units"], p["revenue"]) for p in top2.json()["items"]}
    assert two == {p1: (2, "25.00"), p2: (3, "12.75")}
