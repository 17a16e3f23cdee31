"""The catalogue API through the gateway: reads for anyone, writes for admins, search and pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.services.conftest import Account

pytestmark = pytest.mark.platform


def test_create_and_read(api: httpx.Client, new_product: Callable[..., dict[str, Any]]) -> None:
    made = new_product(stock=7, price="12.5", category="mugs", description="Blue, 350 ml")
    assert made["price"] == "12.50" and made["currency"] == "USD" and made["stock"] == 7
    read = api.get(f"/api/products/{made['product_id']}")
    assert read.status_code == 200
    body = read.json()
    assert {k: body[k] for k in ("name", "description", "price", "stock", "category")} == {
        "name": made["name"], "description": "Blue, 350 ml", "price": "12.50", "stock": 7, "category": "mugs",
    }


def test_unknown_product_is_404(api: httpx.Client) -> None:
    answer = api.get(f"/api/products/{uuid.uuid4().hex}")
    assert answer.status_code == 404 and answer.json()["title"] == "Not Found"


def test_writes_need_an_admin(api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    body = {"name": "Nope", "price": "1.00"}
    assert api.post("/api/products", json=body).status_code == 401
    assert api.post("/api/products", json=body, headers=user.headers).status_code == 403
    made = new_product()
    path = f"/api/products/{made['product_id']}"
    assert api.patch(path, json={"price": "0.01"}, headers=user.headers).status_code == 403
    assert api.delete(path, headers=user.headers).status_code == 403
    assert api.get(path).json()["price"] == made["price"]


@pytest.mark.parametrize("body", [
    {"price": "1.00"}, {"name": "x", "price": "-1"}, {"name": "x", "price": "1.234"},
    {"name": "x", "price": "0"}, {"name": "x", "price": "abc"}, {"name": "x", "price": "1.00", "stock": -1},
    {"name": "", "price": "1.00"}, {"name": "x", "price": "1.00", "category": "../etc"},
])
def test_invalid_product_is_a_4xx(api: httpx.Client, admin: Account, body: dict[str, Any]) -> None:
    answer = api.post("/api/products", json=body, headers=admin.headers)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["detail"]


def test_update_and_delete(api: httpx.Client, admin: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    made = new_product(stock=3)
    path = f"/api/products/{made['product_id']}"
    patched = api.patch(path, json={"price": "5", "stock": 9, "description": "new"}, headers=admin.headers)
    assert patched.status_code == 200
    assert {k: patched.json()[k] for k in ("price", "stock", "description", "name")} == {
        "price": "5.00", "stock": 9, "description": "new", "name": made["name"],
    }
    assert api.get(path).json()["stock"] == 9
    assert api.delete(path, headers=admin.headers).status_code == 204
    assert api.get(path).status_code == 404
    assert api.delete(path, headers=admin.headers).status_code == 404
    assert api.patch(path, json={"price": "5"}, headers=admin.headers).status_code == 404


def _all_pages(api: httpx.Client, limit: int, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(10_000):
        query: dict[str, Any] = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/products", params=query)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_search_and_category_pages_do_not_truncate(
    api: httpx.Client, new_product: Callable[..., dict[str, Any]]
) -> None:
    word = f"zq{uuid.uuid4().hex[:8]}"
    category = f"cat-{uuid.uuid4().hex[:8]}"
    matching = {new_product(description=f"has {word.upper()} inside", category=category)["product_id"]
                for _ in range(5)}
    matching.add(new_product(name=f"Named {word}")["product_id"])
    other = new_product(category=category)["product_id"]

    found = _all_pages(api, 2, q=word)
    assert [p["product_id"] for p in found].count(next(iter(matching))) == 1
    assert {p["product_id"] for p in found} == matching

    in_category = _all_pages(api, 2, category=category)
    ids = [p["product_id"] for p in in_category]
    assert len(ids) == len(set(ids)) == 6 and other in ids
    assert all(p["category"] == category for p in in_category)

    both = _all_pages(api, 1, q=word, category=category)
    assert len(both) == 5


def test_listing_is_paginated_with_default_limit(api: httpx.Client, new_product: Callable[..., dict[str, Any]]) -> None:
    for _ in range(3):
        new_product()
    page = api.get("/api/products").json()
    assert set(page) == {"items", "next_cursor"} and 3 <= len(page["items"]) <= 20


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "bm90LWpzb24"}, {"cursor": "!!"}])
def test_bad_listing_parameters_are_4xx(api: httpx.Client, params: dict[str, Any]) -> None:
    answer = api.get("/api/products", params=params)
    assert answer.status_code in (400, 422), answer.text
