"""The orders service's front door for ``POST /api/orders`` (``services/orders/edge.py``), called on
the service itself: it must answer exactly as the app would, count in the same metrics, and hand
everything it does not take to the app."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, stock_of

pytestmark = pytest.mark.platform


def _series(platform: LocalPlatform, status: int) -> float:
    text = httpx.get(f"{platform.service_url('orders')}/metrics").text
    found = re.search(rf'^http_requests_total{{method="POST",route="/api/orders",status="{status}"}} (\S+)$',
                      text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _place(platform: LocalPlatform, content: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{platform.service_url('orders')}/api/orders", content=content, timeout=15,
                      headers={"Content-Type": "application/json", **headers})


def test_an_order_is_placed_counted_and_carries_the_request_id(
    platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=3, price="2.50")
    before = _series(platform, 201)
    answer = _place(platform, b'{"items": [{"product_id": "%s", "quantity": 2}]}' % product["product_id"].encode(),
                    {**user.headers, "X-Request-ID": "edge-test-1"})
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-request-id"] == "edge-test-1"
    order = answer.json()
    assert order["user_id"] == user.id and order["total"] == "5.00" and order["status"] == "created"
    assert _series(platform, 201) == before + 1
    assert stock_of(platform, product["product_id"]) == 1


def test_errors_while_placing_are_problem_details(
    platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=1)
    short = _place(platform, b'{"product_id": "%s", "quantity": 2}' % product["product_id"].encode(),
                   {**user.headers, "X-Request-ID": "edge-test-2"})
    assert short.status_code == 409 and short.headers["content-type"] == "application/problem+json"
    assert short.json() == {"type": "about:blank", "title": "Conflict", "status": 409,
                            "detail": f"not enough stock for product {product['product_id']}",
                            "request_id": "edge-test-2", "product_id": product["product_id"], "available": 1}
    missing = _place(platform, b'{"product_id": "no-such-product", "quantity": 1}', user.headers)
    assert missing.status_code == 404 and missing.json()["detail"] == "no such product: no-such-product"
    assert missing.json()["request_id"] == missing.headers["x-request-id"]


@pytest.mark.parametrize("content", [b"", b"{", b'{"items": []}', b'{"product_id": "x", "quantity": 0}'])
def test_bad_input_is_answered_by_the_app(platform: LocalPlatform, user: Account, content: bytes) -> None:
    before = _series(platform, 400)
    answer = _place(platform, content, user.headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json" and answer.json()["detail"]
    assert _series(platform, 400) == before + 1  # counted once (not by the edge and the app both)


def test_a_missing_or_bad_token_is_answered_by_the_app(platform: LocalPlatform) -> None:
    body = b'{"product_id": "x", "quantity": 1}'
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        answer = _place(platform, body, headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
        assert answer.json()["status"] == 401


def test_a_bad_idempotency_key_is_answered_by_the_app(platform: LocalPlatform, user: Account) -> None:
    answer = _place(platform, b'{"product_id": "x", "quantity": 1}', {**user.headers, "Idempotency-Key": "k" * 201})
    assert answer.status_code == 400, answer.text


def test_idempotency_key_through_the_edge(
    platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=5)
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    body = b'{"product_id": "%s", "quantity": 2}' % product["product_id"].encode()
    first, again = _place(platform, body, headers), _place(platform, body, headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert stock_of(platform, product["product_id"]) == 3


def test_a_large_body_is_streamed_on_to_the_app(
    platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    """Past the edge's 64 KiB bound the body goes to the app, the part already read included."""
    product = new_product(stock=2)
    padding = b" " * 200_000
    body = b'{"product_id": "%s",%s"quantity": 1}' % (product["product_id"].encode(), padding)

    def chunks() -> Any:
        for start in range(0, len(body), 16_384):
            yield body[start:start + 16_384]

    answer = httpx.post(f"{platform.service_url('orders')}/api/orders", content=chunks(), timeout=15,
                        headers={"Content-Type": "application/json", **user.headers})
    assert answer.status_code == 201, answer.text
    assert stock_of(platform, product["product_id"]) == 1
