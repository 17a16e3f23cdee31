"""Speed, phone width, keyboard use, and what the page must not contain."""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import flows
from tests.browser.shopapi import ShopApi, unique

pytestmark = [pytest.mark.browser, pytest.mark.platform]

FIRST_RENDER_BUDGET_MS = 1000


def test_first_render_of_the_catalogue_is_well_under_a_second(shopper_page: Page, shop_api: ShopApi) -> None:
    shop_api.create_product(f"Render probe {unique('r')}", "2.00", stock=1)
    page = shopper_page
    timings = []
    for _ in range(5):
        page.goto("/", wait_until="commit")
        page.locator("#results li.card").first.wait_for()
        timings.append(page.evaluate("performance.getEntriesByName('catalogue-rendered')[0].startTime"))
    print(f"catalogue first render (ms from navigation start): {[round(t) for t in timings]}")
    # The median of five loads: one load can stall when other processes take both cores.
    assert statistics.median(timings) < FIRST_RENDER_BUDGET_MS, timings


def test_phone_width_has_no_horizontal_scrolling(shopper_page: Page, shop_api: ShopApi) -> None:
    tag = unique("phone")
    shop_api.create_product(f"A product with a rather long name for a small screen {tag}", "5.00", stock=3)
    page = shopper_page
    page.set_viewport_size({"width": 360, "height": 740})
    for route in ("/#/", f"/#/?q={tag}", "/#/login", "/#/register", "/#/status", "/#/cart"):
        page.goto(route)
        page.locator("main h1").wait_for()
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{route} scrolls sideways by {overflow}px at 360px"


def test_keyboard_only_search_and_add_to_cart(shopper_page: Page, shop_api: ShopApi) -> None:
    tag = unique("keys")
    shop_api.create_product(f"Keyboard {tag}", "45.00", stock=3)
    page = shopper_page
    page.goto("/")
    page.locator("#results").wait_for()

    def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {predicate}; }})()"):
                return
        raise AssertionError(f"Tab never reached an element where {predicate}")

    tab_to("e.type === 'search'")
    page.keyboard.type(tag)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{tag}”")
    tab_to("e.tagName === 'BUTTON' && e.textContent === 'Add to cart'")
    page.keyboard.press("Enter")
    expect(page.locator("#cart-count")).to_have_text("1")
    assert flows.cart_count(page) == 1


def test_page_and_assets_carry_no_secrets_and_a_strict_csp(shop_api: ShopApi, platform: Any) -> None:
    index = shop_api.get_raw("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    csp = index.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp or "default-src 'self'" in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    bodies = [index.text]
    for asset in ("app.js", "api.js", "session.js", "style.css"):
        res = shop_api.get_raw(f"/assets/{asset}")
        assert res.status_code == 200, asset
        bodies.append(res.text)
    for body in bodies:
        assert platform.admin_password not in body
        assert platform.admin_email not in body
