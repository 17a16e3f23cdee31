"""The stack's Prometheus on real traffic: every target scraped, every dashboard panel answered,
a stopped service's down alert firing in time and resolving after its restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from blueprint import observability as obs
from blueprint.topology import TOPOLOGY
from ecomctl.local import prometheus
from ecomctl.local.platform import LocalPlatform
from tests.file_processor.test_upload_e2e import login, processed_status, upload

pytestmark = [pytest.mark.platform, pytest.mark.slow]


def _until(what: str, check: Callable[[], Any], timeout_s: float, step_s: float = 2.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what} not seen within {timeout_s:.0f} s"
        time.sleep(step_s)


def _query(platform: LocalPlatform, promql: str) -> list[dict[str, Any]]:
    return prometheus.query(platform.prometheus_url, promql)


def test_prometheus_scrapes_every_service_and_worker(platform: LocalPlatform) -> None:
    expected = set(obs.scraped_names(TOPOLOGY)) | {obs.PROMETHEUS_JOB}

    def all_up() -> bool:
        series = _query(platform, "up == 1")
        return {s["metric"]["job"] for s in series} == expected

    _until("every target up", all_up, timeout_s=3 * obs.SCRAPE_INTERVAL_S)
    assert platform.status().endpoints["prometheus"] == platform.prometheus_url


def _traffic(platform: LocalPlatform) -> None:
    """Orders, a product listing, an unknown route and an upload: what the panels are about."""
    gateway = platform.gateway_url
    with httpx.Client(base_url=gateway, timeout=15) as api:
        admin = api.post("/api/auth/login", json={"email": platform.admin_email, "password": platform.admin_password})
        admin_headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        product = api.post("/api/products", headers=admin_headers, json={
            "name": f"Metrics probe {uuid.uuid4().hex[:8]}", "price": "12.50", "stock": 50})
        assert product.status_code == 201, product.text
        headers = login(gateway)
        for _ in range(3):
            placed = api.post("/api/orders", headers=headers, json={
                "items": [{"product_id": product.json()["product_id"], "quantity": 1}]})
            assert placed.status_code == 201, placed.text
            assert api.get("/api/products").status_code == 200
        key = upload(gateway, headers, "numbers.txt", "text/plain", b"1 2 3\n")
        processed_status(gateway, headers, key)


@pytest.mark.timeout(400)
def test_every_dashboard_panel_answers_after_traffic(platform: LocalPlatform) -> None:
    _traffic(platform)
    targets = [(p.title, expr) for p in obs.panels() for expr, _ in p.targets]
    # the stream job closes a window a minute (+ watermark delay) after the orders' event time
    deadline_s = 2 * TOPOLOGY.stream_jobs[0].window_seconds + 60
    started = time.monotonic()
    for title, expr in targets:
        left = max(5.0, deadline_s - (time.monotonic() - started))
        _until(f"a series for {title!r} ({expr})", lambda e=expr: _query(platform, e), timeout_s=left)


def _down_alert(platform: LocalPlatform, job: str) -> bool:
    return any(a.name == "ComponentDown" and job in a.summary for a in platform.status().alerts)


def test_stopped_service_fires_its_down_alert_and_it_resolves(platform: LocalPlatform) -> None:
    job = "analytics"
    _until("analytics scraped", lambda: _query(platform, f'up{{job="{job}"}} == 1'), timeout_s=30)
    platform.stop_component(job)
    stopped = time.monotonic()
    try:
        # for: + one scrape interval, + up to two rule evaluations (pending, then firing) and a poll
        bound = obs.DOWN_FOR_S + obs.SCRAPE_INTERVAL_S + 2 * obs.EVALUATION_INTERVAL_S + 3
        _until("ComponentDown firing", lambda: _down_alert(platform, job), timeout_s=bound, step_s=1.0)
        assert time.monotonic() - stopped >= obs.DOWN_FOR_S  # not before the for: window
    finally:
        platform.start_component(job)
    _until("ComponentDown resolved", lambda: not _down_alert(platform, job),
           timeout_s=obs.SCRAPE_INTERVAL_S + 2 * obs.EVALUATION_INTERVAL_S + 5, step_s=1.0)
