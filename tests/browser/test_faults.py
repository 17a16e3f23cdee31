"""Error states with a real outage: the products service stops, the page says so, then recovers."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.shopapi import ShopApi, unique

pytestmark = [pytest.mark.browser, pytest.mark.platform, pytest.mark.slow]


def test_catalogue_and_status_panel_show_an_outage_and_recover(
    shopper_page: Page, shop_api: ShopApi, platform: Any
) -> None:
    tag = unique("outage")
    item = shop_api.create_product(f"Resilient kettle {tag}", "12.00", stock=2)
    page = shopper_page
    platform.stop_component("products")
    try:
        page.goto(f"/#/?q={tag}")
        alert = page.locator("#results [role=alert]")
        expect(alert).to_be_visible()
        expect(alert.get_by_role("button", name="Try again")).to_be_visible()
        assert "Traceback" not in alert.inner_text()

        page.goto("/#/status")
        expect(page.locator("#overall")).to_have_attribute("data-state", "not-ready")
        expect(page.locator('ul.checks li[data-state="not-ready"]').first).to_contain_text("products")
    finally:
        platform.start_component("products")

    expect(page.locator("#overall")).to_have_attribute("data-state", "ready", timeout=30_000)  # live refresh
    page.goto(f"/#/?q={tag}")
    expect(page.locator(f'li.card[data-product-id="{item["product_id"]}"]')).to_be_visible()


def test_unknown_product_page_says_so(shopper_page: Page) -> None:
    page = shopper_page
    page.goto(f"/#/product/{unique('missing')}")
    expect(page.get_by_role("alert")).to_have_text("This product does not exist (any more).")
