"""Catalogue search, category filter and cursor pagination through the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser import flows
from tests.browser.shopapi import ShopApi, unique

pytestmark = [pytest.mark.browser, pytest.mark.platform]

PAGE_SIZE = 12  # view-catalogue.js


def shown_ids(page: Page) -> list[str]:
    """The product ids on screen, once the results answer the current address."""
    page.wait_for_function("() => document.querySelector('#results')?.dataset.for === window.location.hash")
    return [str(i) for i in page.locator("#results li.card").evaluate_all("els => els.map(e => e.dataset.productId)")]


def test_category_filter_narrows_a_search(shopper_page: Page, shop_api: ShopApi) -> None:
    tag = unique("cat")
    tea = shop_api.create_product(f"Green tea {tag}", "4.00", stock=2, category=f"tea-{tag}")
    shop_api.create_product(f"Black coffee {tag}", "6.00", stock=2, category=f"coffee-{tag}")
    page = shopper_page
    flows.search(page, tag)
    expect(page.locator("#results li.card")).to_have_count(2)
    page.get_by_label("Category").select_option(f"tea-{tag}")
    expect(page.locator("#results li.card")).to_have_count(1)
    assert shown_ids(page) == [tea["product_id"]]
    assert f"category=tea-{tag}" in page.url  # the filter is in the address: reload and share keep it
    page.reload()
    expect(page.locator("#results li.card")).to_have_count(1)
    expect(page.get_by_label("Category")).to_have_value(f"tea-{tag}")


def test_pagination_walks_every_result_once_and_back(shopper_page: Page, shop_api: ShopApi) -> None:
    tag = unique("page")
    created = {
        shop_api.create_product(f"Page item {i} {tag}", "1.00", stock=1)["product_id"] for i in range(PAGE_SIZE + 1)
    }
    page = shopper_page
    flows.search(page, tag)
    first = shown_ids(page)
    assert 0 < len(first) <= PAGE_SIZE
    seen = list(first)
    nxt = page.get_by_role("button", name="Next →")
    for _ in range(PAGE_SIZE + 1):  # bounded: the server may return short pages
        if nxt.count() == 0:
            break
        nxt.click()
        seen += shown_ids(page)
    assert sorted(seen) == sorted(created), "every product exactly once across the pages"
    prev = page.get_by_role("button", name="← Previous")
    for _ in range(PAGE_SIZE + 1):
        if "cursor=" not in page.url:
            break
        prev.click()
        shown_ids(page)
    assert shown_ids(page) == first
