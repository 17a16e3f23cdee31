"""#/analytics with real windows from real orders: charts, top products, an admin's top buyers."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import flows
from tests.browser.shopapi import ShopApi, unique

pytestmark = [pytest.mark.browser, pytest.mark.platform, pytest.mark.slow]
UNITS = 3000  # to lead the recent windows' top products, whatever the suite ordered before (hundreds)
PRICE = 5


def buyer(api: ShopApi, gateway: str) -> tuple[str, str]:
    name = unique("Analyst")
    email = f"{name.lower()}@example.com"
    created = httpx.post(f"{gateway}/api/users", json={"name": name, "email": email, "password": flows.PASSWORD})
    assert created.status_code == 201, created.text
    return name, api.token(email, flows.PASSWORD)


def wait_for_top_product(gateway: str, product_id: str, timeout_s: float = 240) -> dict[str, Any]:
    """The product among the analytics API's top products, once its window has closed."""
    deadline = time.monotonic() + timeout_s
    while True:
        top = httpx.get(f"{gateway}/api/analytics/top-products", params={"limit": 5}).json()["items"]
        found = next((p for p in top if p["product_id"] == product_id), None)
        if found is not None:
            return dict(found)
        assert time.monotonic() < deadline, f"{product_id} not among the top products: {top}"
        time.sleep(2)


@pytest.mark.timeout(420)
def test_analytics_page_shows_the_windows_of_real_orders(
    platform: Any, shop_api: ShopApi, shopper_page: Page, screenshot: Any
) -> None:
    gateway = platform.gateway_url
    product = shop_api.create_product(unique("Analytics lamp "), f"{PRICE}.00", UNITS, category="browser-tests")
    name, token = buyer(shop_api, gateway)
    for quantity in (UNITS // 3, UNITS // 3, UNITS - 2 * (UNITS // 3)):  # at most 1,000 per line
        res = httpx.post(f"{gateway}/api/orders", headers={"Authorization": f"Bearer {token}"},
                         json={"items": [{"product_id": product["product_id"], "quantity": quantity}]})
        assert res.status_code == 201, res.text
    top = wait_for_top_product(gateway, product["product_id"])
    assert top["units"] == UNITS
    windows = httpx.get(f"{gateway}/api/analytics/windows", params={"limit": 30}).json()["items"]

    page = shopper_page
    page.goto("/#/")
    page.locator("main h1").wait_for()
    for _ in range(20):  # keyboard only: from the page's heading back to the navigation's Analytics link
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.getAttribute('href') === '#/analytics'"):
            break
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Shop analytics")
    expect(page.locator("#revenue-chart svg rect.bar")).to_have_count(min(15, len(windows)))
    expect(page.locator("#orders-chart svg rect.bar")).to_have_count(min(15, len(windows)))
    row = page.locator(f'#top-products-table tr[data-id="{product["product_id"]}"]')
    expect(row).to_contain_text(product["name"])
    expect(row.locator("td").nth(1)).to_have_text(str(UNITS))
    expect(row.locator("td").nth(2)).to_contain_text(f"{UNITS * PRICE:,}.00")
    assert page.locator("#top-buyers").count() == 0  # personal data: admins only
    expect(page.locator("#refreshed")).to_contain_text("Updated")
    first = page.locator("#refreshed").inner_text()
    expect(page.locator("#refreshed")).not_to_have_text(first, timeout=12_000)  # refreshed in place

    page.set_viewport_size({"width": 360, "height": 780})  # phone width: nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    flows.log_in(page, platform.admin_email, platform.admin_password)
    page.goto("/#/analytics")
    buyers = page.locator("#top-buyers-table")
    expect(buyers).to_contain_text(name)
    page.set_viewport_size({"width": 1100, "height": 900})
    screenshot(page, "analytics")
