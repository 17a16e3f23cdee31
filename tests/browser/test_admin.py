"""The admin view, and untrusted text rendered as text."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import flows
from tests.browser.conftest import PageGuard
from tests.browser.shopapi import unique

pytestmark = [pytest.mark.browser, pytest.mark.platform]

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_admin_adds_a_hostile_name_and_shoppers_see_literal_text(
    shopper_page: Page, new_context: Any, guard: PageGuard, platform: Any
) -> None:
    tag = unique("xss")
    admin_context: BrowserContext = new_context()
    admin = guard.watch(admin_context.new_page())
    admin.goto("/#/login")
    flows.log_in(admin, platform.admin_email, platform.admin_password)
    admin.goto("/#/admin")
    add = admin.locator("section", has=admin.get_by_role("heading", name="Add a product"))
    add.get_by_label("Name").fill(f"{PAYLOAD} {tag}")
    add.get_by_label("Price (USD)").fill("9.99")
    add.get_by_label("Stock").fill("4")
    add.get_by_label("Description").fill(f'<script>alert("d")</script> {tag}')
    add.get_by_role("button", name="Add product").click()
    expect(add.get_by_text(f"Saved “{PAYLOAD} {tag}”.")).to_be_visible()

    # Edit it through the page too: the new price is what shoppers see.
    admin.get_by_role("searchbox", name="Search").fill(tag)
    admin.get_by_role("button", name="Find").click()
    admin.get_by_role("button", name=f"Edit {PAYLOAD} {tag}").click()
    edit = admin.locator(".admin-list form")
    edit.get_by_label("Price (USD)").fill("11.50")
    edit.get_by_role("button", name="Save changes").click()
    expect(edit.get_by_text("Saved")).to_be_visible()

    page = shopper_page
    flows.search(page, tag)
    name = page.locator("#results .product-name")
    expect(name).to_have_text(f"{PAYLOAD} {tag}")
    expect(page.locator("#results .price")).to_contain_text("11.50")
    assert page.locator("#results img").count() == 0
    name.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{PAYLOAD} {tag}")
    expect(page.locator(".description")).to_have_text(f'<script>alert("d")</script> {tag}')
    assert page.locator("main img, main script").count() == 0
    page.wait_for_timeout(300)  # give a would-be onerror handler time to fire; the guard asserts no dialog


def test_a_shopper_cannot_use_the_admin_view(shopper_page: Page) -> None:
    page = shopper_page
    flows.register(page, name=PAYLOAD)  # a hostile user name is shown as text too
    expect(page.get_by_role("link", name=f"Profile ({PAYLOAD})")).to_be_visible()
    page.get_by_role("link", name=f"Profile ({PAYLOAD})").click()
    expect(page.locator("#profile")).to_contain_text(PAYLOAD)
    assert page.locator("img").count() == 0
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin", exact=True).count() == 0
    page.goto("/#/admin")
    expect(page.get_by_text("does not look like an admin")).to_be_visible()
    add = page.locator("section", has=page.get_by_role("heading", name="Add a product"))
    add.get_by_label("Name").fill(f"Forbidden {unique('x')}")
    add.get_by_label("Price (USD)").fill("1.00")
    add.get_by_role("button", name="Add product").click()
    expect(add.get_by_role("alert")).to_contain_text("Only an admin can change the catalogue.")
