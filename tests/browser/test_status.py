"""The live panel: every service's readiness and the analytics chart, refreshed in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from blueprint.topology import TOPOLOGY

pytestmark = [pytest.mark.browser, pytest.mark.platform]


def test_live_panel_shows_the_platform_ready_and_refreshes(shopper_page: Page) -> None:
    page = shopper_page
    page.goto("/#/status")
    overall = page.locator("#overall")
    expect(overall).to_have_attribute("data-state", "ready")
    expect(overall).to_have_text("✓ Platform ready")
    checks = page.locator("ul.checks li")
    expect(checks.first).to_be_visible()
    states = checks.evaluate_all("els => els.map(e => [e.dataset.check, e.dataset.state])")
    assert states, "the gateway's /ready lists no checks"
    assert all(state == "ready" for _, state in states), states
    names = " ".join(name for name, _ in states)
    for upstream in TOPOLOGY.service(TOPOLOGY.gateway).upstreams:
        assert upstream in names, f"{upstream} missing from the panel: {states}"
    # The analytics section answered: a chart, or the explanation that no window exists yet.
    expect(page.locator("#analytics figure.chart-figure, #analytics p.empty").first).to_be_visible()
    assert page.locator("#analytics [role=alert]").count() == 0

    expect(page.locator("#refreshed")).to_contain_text("Updated")
    first = page.locator("#refreshed").inner_text()
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#refreshed")).not_to_have_text(first, timeout=12_000)  # refreshed...
    assert page.evaluate("window.__sameDocument") is True  # ...without reloading the page
