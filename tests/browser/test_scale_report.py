"""The scale-test report opens offline in Chromium with its charts drawn and no error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PageGuard
from tests.conftest import run_ecomctl

pytestmark = [pytest.mark.browser, pytest.mark.platform, pytest.mark.slow]


def test_the_report_draws_its_charts_offline(platform_environ: dict[str, str], tmp_path: Path,
                                             shopper_page: Page, guard: PageGuard, screenshot: Any) -> None:
    done = run_ecomctl(["scale-test", "--duration", "12", "--json", "--report", str(tmp_path)], platform_environ)
    assert done.returncode == 0, done.stderr[-2000:]
    groups = [g for g in json.loads(done.stdout)["groups"] if g != "all"]
    page = shopper_page
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((tmp_path / "report.html").as_uri())
    assert page.locator("h1").inner_text().endswith("PASS")
    charts = page.locator("svg.chart")
    assert charts.count() >= 6  # users, req/s, p50, p95, p99, errors (+ CPU on a local stack)
    for index in range(charts.count()):
        box = charts.nth(index).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
    latency = page.locator("svg.chart[aria-label='p95 latency per endpoint group'] polyline.series")
    assert sorted(latency.evaluate_all("els => els.map(e => e.dataset.series)")) == sorted(groups)
    drawn = latency.evaluate_all("els => els.map(e => e.getAttribute('points').split(' ').length)")
    assert min(drawn) >= 10  # a point a second
    assert page.locator("svg.chart[aria-label='CPU per component (cores)'] polyline.series").count() >= 10
    assert [u for u in requests if not u.startswith("file:")] == []  # nothing fetched from anywhere
    screenshot(page, "scale-test-report")
