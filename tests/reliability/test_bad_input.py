"""Bad input gets a clear 4xx naming the problem: a reused Idempotency-Key, an e-mail that grows
when lower-cased, expensive anonymous queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, stock_of

pytestmark = pytest.mark.platform


def test_an_idempotency_key_reused_for_another_order_is_refused(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    product = new_product(stock=10)
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/api/orders", headers=headers, json={"product_id": product["product_id"], "quantity": 1})
    assert first.status_code == 201, first.text
    same = api.post("/api/orders", headers=headers, json={"product_id": product["product_id"], "quantity": 1})
    assert same.status_code == 201 and same.json() == first.json()
    other = api.post("/api/orders", headers=headers, json={"product_id": product["product_id"], "quantity": 4})
    assert other.status_code == 409, other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in other.json()["detail"] and other.json()["order_id"] == first.json()["id"]
    assert stock_of(platform, product["product_id"]) == 9  # the refused request took nothing


def test_an_email_too_long_once_lower_cased_is_refused(api: httpx.Client) -> None:
    email = "İ" * 240 + "@example.com"  # 252 characters; 492 once lower-cased ('İ' -> 'i̇')
    answer = api.post("/api/users", json={"name": "Long", "email": email, "password": "correct horse battery"})
    assert answer.status_code == 422, answer.text
    assert "e-mail" in answer.json()["detail"]
    login = api.post("/api/auth/login", json={"email": email, "password": "correct horse battery"})
    assert login.status_code == 422, login.text


def test_public_analytics_read_at_most_an_hour(api: httpx.Client) -> None:
    answer = api.get("/api/analytics/top-products", params={"windows": 1440})
    assert answer.status_code == 400 and answer.headers["content-type"].startswith("application/problem+json")
    assert api.get("/api/analytics/summary", params={"windows": 61}).status_code == 400
    assert api.get("/api/analytics/top-products", params={"windows": 60}).status_code == 200


def test_a_search_reads_a_bounded_number_of_chunks_and_pages_on(
    platform: LocalPlatform, new_product: Callable[..., dict[str, Any]], aws_environ: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from services.kit.dynamo import DynamoClient
    from services.products import store as products_store
    from services.products.store import ProductStore

    env = aws_environ("products")
    word = uuid.uuid4().hex[:10]
    wanted = {new_product(name=f"Needle {word} {n}")["product_id"] for n in range(2)}
    for _ in range(4):
        new_product()
    monkeypatch.setattr(products_store, "SCAN_CHUNK", 2)
    monkeypatch.setattr(products_store, "MAX_CHUNKS", 1)
    scans: list[int] = []

    async def search() -> set[str]:
        client = DynamoClient(env["AWS_REGION"])
        store = ProductStore(client, env["TABLE_PRODUCTS"])
        real_call = client.call

        async def counting_call(operation: str, payload: dict[str, Any], attempts: int = 3) -> dict[str, Any]:
            if operation == "Scan":
                scans.append(1)
            return await real_call(operation, payload, attempts)

        client.call = counting_call  # type: ignore[method-assign]
        try:
            found: set[str] = set()
            start = None
            pages = 0
            while True:
                before = len(scans)
                items, start = await store.page(5, start, word.lower(), None)
                assert len(scans) - before <= 1  # one request never reads more than MAX_CHUNKS chunks
                found |= {p.product_id for p in items}
                pages += 1
                if start is None:
                    return found
        finally:
            await client.close()

    assert asyncio.run(search()) == wanted  # paging on finds every match
