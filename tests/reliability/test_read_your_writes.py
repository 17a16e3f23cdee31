"""Right after placing an order, its author reads the product's new stock (read-your-writes),
though anonymous readers may be served the cached product for a moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.services.conftest import Account

pytestmark = pytest.mark.platform


def test_the_author_of_an_order_reads_the_stock_it_left(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product_id = new_product(stock=10)["product_id"]
    for _ in range(2):  # warm the caches (the gateway's public cache and the service's)
        assert api.get(f"/api/products/{product_id}").json()["stock"] == 10
    placed = api.post("/api/orders", headers=user.headers, json={"product_id": product_id, "quantity": 3})
    assert placed.status_code == 201, placed.text
    assert api.get(f"/api/products/{product_id}", headers=user.headers).json()["stock"] == 7
    cancelled = api.post(f"/api/orders/{placed.json()['id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200
    assert api.get(f"/api/products/{product_id}", headers=user.headers).json()["stock"] == 10


def test_a_bad_token_on_a_public_read_is_refused(api: httpx.Client, new_product: Callable[..., dict[str, Any]]
                                                 ) -> None:
    product_id = new_product()["product_id"]
    answer = api.get(f"/api/products/{product_id}", headers={"Authorization": "Bearer not-a-token"})
    assert answer.status_code == 401  # a forged token cannot buy an uncached read either
