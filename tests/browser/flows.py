"""What a person does on the storefront, as reusable steps (each waits for the page's answer)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.shopapi import unique

PASSWORD = "correct-horse-battery"


def register(page: Page, name: str = "Test Shopper") -> str:
    """Create an account through the page; the page logs the new user in. Returns the e-mail."""
    email = f"{unique('shopper')}@example.com"
    page.goto("/#/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    expect(page.locator("#logout")).to_be_visible()
    return email


def log_out(page: Page) -> None:
    page.locator("#logout").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in", exact=True)).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Log in from wherever the page is (the login page itself, or via the nav link)."""
    if not re.search(r"#/login", page.url):
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in", exact=True).click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # The page leaves the login form only once the profile is read too; acting before that races it.
    expect(page).not_to_have_url(re.compile(r"#/login"))
    expect(page.locator("#logout")).to_be_visible()


def search(page: Page, text: str) -> None:
    page.goto("/#/")
    page.get_by_role("searchbox", name="Search").fill(text)
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Results for “{text}”")


def card(page: Page, product_id: str):  # type: ignore[no-untyped-def]
    return page.locator(f'li.card[data-product-id="{product_id}"]')


def add_to_cart(page: Page, product: dict[str, object]) -> None:
    """Press a catalogue card's button (its accessible name names the product)."""
    card(page, str(product["product_id"])).get_by_role("button", name=f"Add {product['name']} to cart").click()


def cart_count(page: Page) -> int:
    return int(page.locator("#cart-count").inner_text())
