"""A shopper's journey through the storefront, on the running local stack."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser import flows
from tests.browser.shopapi import ShopApi, unique

pytestmark = [pytest.mark.browser, pytest.mark.platform]


def test_register_search_cart_checkout_and_cancel(shopper_page: Page, shop_api: ShopApi, screenshot) -> None:  # type: ignore[no-untyped-def]
    page = shopper_page
    tag = unique("journey")
    lamp = shop_api.create_product(f"Desk lamp {tag}", "24.50", stock=10, description=f"Warm light {tag}")
    mug = shop_api.create_product(f"Coffee mug {tag}", "7.25", stock=10, description=f"Holds coffee {tag}")

    email = flows.register(page, name="Journey Shopper")
    flows.log_out(page)
    flows.log_in(page, email)
    page.get_by_role("link", name="Profile (Journey Shopper)").click()
    expect(page.locator("#profile")).to_contain_text(email)

    flows.search(page, tag)
    results = page.locator("#results li.card")
    expect(results).to_have_count(2)
    screenshot(page, "catalogue")
    flows.add_to_cart(page, lamp)
    flows.add_to_cart(page, mug)
    flows.add_to_cart(page, mug)
    expect(page.locator("#cart-count")).to_have_text("3")

    page.reload()  # the cart survives a reload
    expect(page.locator("#cart-count")).to_have_text("3")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cart").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#cart-estimate")).to_contain_text("39.00")  # 24.50 + 2 × 7.25, from the catalogue
    screenshot(page, "checkout")

    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    total = page.locator("#order-total")
    expect(total).to_contain_text("39.00")
    order_id = page.url.split("#/orders/")[1].split("?")[0]
    token = page.evaluate("JSON.parse(sessionStorage.getItem('ecomctl.session')).token")
    server = shop_api.order(token, order_id)
    assert Decimal(total.get_attribute("data-amount") or "") == Decimal(server["total"]) == Decimal("39.00")
    expect(page.locator("#cart-count")).to_have_text("0")
    assert shop_api.settled_stock(mug["product_id"], 8) == 8  # two mugs reserved
    screenshot(page, "order-placed")

    page.get_by_role("link", name="Orders", exact=True).click()
    row = page.locator(f'li.order[data-order-id="{order_id}"]')
    expect(row).to_be_visible()
    expect(row.locator(".order-total")).to_contain_text("39.00")
    row.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("is cancelled")).to_be_visible()
    expect(row.locator(".status")).to_have_text("cancelled", ignore_case=True)
    assert shop_api.order(token, order_id)["status"] in {"cancelled", "canceled"}
    assert shop_api.settled_stock(mug["product_id"], 10) == 10  # the cancel released the stock


def test_out_of_stock_checkout_names_the_product(shopper_page: Page, shop_api: ShopApi) -> None:
    page = shopper_page
    tag = unique("scarce")
    scarce = shop_api.create_product(f"Last teapot {tag}", "30.00", stock=1)
    flows.register(page)
    page.goto(f"/#/product/{scarce['product_id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(scarce["name"])
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to cart", exact=True).click()
    quantity = page.get_by_label(f"Quantity of {scarce['name']}")
    quantity.fill("2")
    quantity.press("Tab")  # the cart takes the change and re-reads prices
    expect(page.locator("#cart-estimate")).to_contain_text("60.00")
    page.get_by_role("button", name="Place order").click()
    alert = page.locator("#checkout-status [role=alert]")
    expect(alert).to_contain_text("Out of stock")
    expect(alert).to_contain_text(scarce["name"])
    expect(alert).to_contain_text("only 1 left")
    expect(page.locator("#cart-count")).to_have_text("2")  # nothing ordered, the cart is kept
    assert shop_api.settled_stock(scarce["product_id"], 1) == 1


def test_expired_login_sends_to_login_and_keeps_the_cart(shopper_page: Page, shop_api: ShopApi) -> None:
    page = shopper_page
    tag = unique("expiry")
    item = shop_api.create_product(f"Notebook {tag}", "3.10", stock=5)
    email = flows.register(page)
    flows.search(page, tag)
    flows.add_to_cart(page, item)
    # The server stops accepting the token (as when it expires): the next call gets a real 401.
    page.evaluate(
        """() => { const s = JSON.parse(sessionStorage.getItem('ecomctl.session'));
                   s.token = s.token.slice(0, -4) + 'AAAA';
                   sessionStorage.setItem('ecomctl.session', JSON.stringify(s)); }"""
    )
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cart").click()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Your login has expired")).to_be_visible()
    assert "#/login" in page.url
    flows.log_in(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your cart")  # back where the user was
    expect(page.locator("#cart-count")).to_have_text("1")
    page.get_by_role("button", name="Place order").click()
    expect(page.locator("#order-total")).to_contain_text("3.10")


def test_notifications_list_the_shoppers_order(shopper_page: Page, shop_api: ShopApi) -> None:
    page = shopper_page
    item = shop_api.create_product(f"Postcard {unique('notify')}", "1.00", stock=5)
    flows.register(page)
    page.goto(f"/#/product/{item['product_id']}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to cart", exact=True).click()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_text("Thank you! Your order is placed.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications", exact=True).click()
    items = page.locator("ul.notifications li")
    answered = page.locator("ul.notifications li, main p.empty").first
    for _ in range(30):  # the notification travels outbox -> Kafka -> notifications service
        answered.wait_for()
        if items.count() > 0:
            break
        page.wait_for_timeout(1000)
        page.reload()
    expect(items.first).to_be_visible()


def test_a_double_click_on_place_order_makes_one_order(shopper_page: Page, shop_api: ShopApi) -> None:
    page = shopper_page
    item = shop_api.create_product(f"Stapler {unique('double')}", "8.40", stock=5)
    flows.register(page)
    page.goto(f"/#/product/{item['product_id']}")
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("link", name="Go to cart", exact=True).click()
    page.get_by_role("button", name="Place order").dblclick()
    expect(page.locator("#order-total")).to_contain_text("8.40")
    page.get_by_role("link", name="Orders", exact=True).click()
    page.locator("li.order").first.wait_for()
    expect(page.locator("li.order")).to_have_count(1)
    assert shop_api.settled_stock(item["product_id"], 4) == 4
