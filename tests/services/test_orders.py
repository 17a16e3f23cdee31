"""The orders API through the gateway: pricing, atomic stock, ownership, idempotency, cancellation,
the transactional outbox, and the events it publishes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import asyncmy
import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, product_item, stock_of
from tests.services.events import OrdersEventsReader

pytestmark = pytest.mark.platform


def test_order_is_priced_by_the_server(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    mug, pen = new_product(stock=5, price="12.50"), new_product(stock=5, price="0.99")
    answer = api.post("/api/orders", headers=user.headers, json={"items": [
        {"product_id": mug["product_id"], "quantity": 2, "unit_price": "0.01"},
        {"product_id": pen["product_id"], "quantity": 3, "price": "0"},
    ], "total": "0.01"})
    assert answer.status_code == 201, answer.text
    order = answer.json()
    assert order["user_id"] == user.id and order["status"] == "created" and order["currency"] == "USD"
    assert [(i["product_id"], i["quantity"], i["unit_price"], i["line_total"]) for i in order["items"]] == [
        (mug["product_id"], 2, "12.50", "25.00"), (pen["product_id"], 3, "0.99", "2.97"),
    ]
    assert order["items"][0]["name"] == mug["name"]
    assert order["total"] == "27.97" and order["created_at"].endswith("Z")
    assert stock_of(platform, mug["product_id"]) == 3 and stock_of(platform, pen["product_id"]) == 2
    assert api.get(f"/api/orders/{order['id']}", headers=user.headers).json() == order


def test_single_line_form(api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]]) -> None:
    product = new_product(price="3.00")
    answer = api.post("/api/orders", headers=user.headers, json={"product_id": product["product_id"], "quantity": 2})
    assert answer.status_code == 201 and answer.json()["total"] == "6.00"


def test_duplicate_lines_are_added_up(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    product = new_product(stock=4, price="1.00")
    line = {"product_id": product["product_id"], "quantity": 2}
    answer = api.post("/api/orders", headers=user.headers, json={"items": [line, line]})
    assert answer.status_code == 201
    assert [(i["quantity"], i["line_total"]) for i in answer.json()["items"]] == [(4, "4.00")]
    assert stock_of(platform, product["product_id"]) == 0


@pytest.mark.parametrize("body", [
    {}, {"items": []}, {"items": [{"product_id": "x", "quantity": 0}]},
    {"items": [{"product_id": "x", "quantity": -1}]}, {"items": [{"product_id": "x"}]},
    {"product_id": "x"}, {"items": "nope"}, {"items": [{"product_id": "", "quantity": 1}]},
    {"items": [{"product_id": "x", "quantity": 1.5}]},
])
def test_invalid_order_is_a_4xx(api: httpx.Client, user: Account, body: dict[str, Any]) -> None:
    answer = api.post("/api/orders", headers=user.headers, json=body)
    assert answer.status_code in (400, 422), answer.text
    assert answer.json()["detail"]


def test_orders_need_a_login(api: httpx.Client) -> None:
    assert api.post("/api/orders", json={"product_id": "x", "quantity": 1}).status_code == 401
    assert api.get("/api/orders").status_code == 401


def test_unknown_product_is_404_and_nothing_is_reserved(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    product = new_product(stock=5)
    answer = api.post("/api/orders", headers=user.headers, json={"items": [
        {"product_id": product["product_id"], "quantity": 2}, {"product_id": uuid.uuid4().hex, "quantity": 1},
    ]})
    assert answer.status_code == 404
    assert stock_of(platform, product["product_id"]) == 5


def test_short_stock_is_409_and_nothing_is_reserved(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    plenty, scarce = new_product(stock=50), new_product(stock=1)
    answer = api.post("/api/orders", headers=user.headers, json={"items": [
        {"product_id": plenty["product_id"], "quantity": 5}, {"product_id": scarce["product_id"], "quantity": 2},
    ]})
    assert answer.status_code == 409
    assert answer.json()["product_id"] == scarce["product_id"]
    assert stock_of(platform, plenty["product_id"]) == 50 and stock_of(platform, scarce["product_id"]) == 1


def test_fifty_concurrent_orders_for_ten_units_sell_exactly_ten(
    platform: LocalPlatform, new_user: Callable[[], Account], new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=10, price="2.00")
    buyers = [new_user() for _ in range(5)]

    async def storm() -> list[int]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30, limits=limits) as client:
            answers = await asyncio.gather(*(
                client.post("/api/orders", headers=buyers[n % 5].headers,
                            json={"product_id": product["product_id"], "quantity": 1})
                for n in range(50)
            ))
        return [a.status_code for a in answers]

    statuses = asyncio.run(storm())
    assert statuses.count(201) == 10 and statuses.count(409) == 40, statuses
    assert stock_of(platform, product["product_id"]) == 0


def test_owners_see_only_their_orders(
    api: httpx.Client, new_user: Callable[[], Account], admin: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    alice, bob = new_user(), new_user()
    product = new_product(stock=10)
    order = api.post("/api/orders", headers=alice.headers,
                     json={"product_id": product["product_id"], "quantity": 1}).json()
    path = f"/api/orders/{order['id']}"
    assert api.get(path, headers=bob.headers).status_code == 404
    assert api.post(f"{path}/cancel", headers=bob.headers).status_code == 404
    assert api.get(path, headers=admin.headers).json()["id"] == order["id"]
    assert api.get("/api/orders", headers=bob.headers).json() == {"items": [], "next_cursor": None}
    assert [o["id"] for o in api.get("/api/orders", headers=alice.headers).json()["items"]] == [order["id"]]
    assert api.get(f"/api/orders/{uuid.uuid4().hex}", headers=alice.headers).status_code == 404
    # bob cannot widen his view with ?user_id=; the admin can narrow to alice
    assert api.get("/api/orders", params={"user_id": alice.id}, headers=bob.headers).json()["items"] == []
    as_admin = api.get("/api/orders", params={"user_id": alice.id}, headers=admin.headers).json()
    assert [o["id"] for o in as_admin["items"]] == [order["id"]]


def test_listing_is_newest_first_and_paginated(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=10)
    ids = [api.post("/api/orders", headers=user.headers,
                    json={"product_id": product["product_id"], "quantity": 1}).json()["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        body = api.get("/api/orders", params=params, headers=user.headers).json()
        seen.extend(o["id"] for o in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_cancel_releases_stock_once(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    product = new_product(stock=6)
    order = api.post("/api/orders", headers=user.headers,
                     json={"product_id": product["product_id"], "quantity": 4}).json()
    assert stock_of(platform, product["product_id"]) == 2
    cancelled = api.post(f"/api/orders/{order['id']}/cancel", headers=user.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert stock_of(platform, product["product_id"]) == 6
    again = api.post(f"/api/orders/{order['id']}/cancel", headers=user.headers)
    assert again.status_code == 409
    assert stock_of(platform, product["product_id"]) == 6
    assert api.get(f"/api/orders/{order['id']}", headers=user.headers).json()["status"] == "cancelled"


def test_idempotency_key_returns_the_same_order(
    api: httpx.Client, user: Account, new_user: Callable[[], Account],
    new_product: Callable[..., dict[str, Any]], platform: LocalPlatform,
) -> None:
    product = new_product(stock=10)
    body = {"product_id": product["product_id"], "quantity": 3}
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    first = api.post("/api/orders", headers=headers, json=body)
    second = api.post("/api/orders", headers=headers, json=body)
    assert first.status_code == 201 and second.status_code == 201
    assert second.json() == first.json()
    assert stock_of(platform, product["product_id"]) == 7
    # the key is per user: another user with the same key gets an order of their own
    other = new_user()
    third = api.post("/api/orders", headers={**other.headers, "Idempotency-Key": headers["Idempotency-Key"]},
                     json=body)
    assert third.status_code == 201 and third.json()["id"] != first.json()["id"]


def test_concurrent_retries_with_one_idempotency_key_make_one_order(
    platform: LocalPlatform, user: Account, new_product: Callable[..., dict[str, Any]]
) -> None:
    product = new_product(stock=10)
    headers = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}

    async def retries() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=30) as client:
            return list(await asyncio.gather(*(
                client.post("/api/orders", headers=headers, json={"product_id": product["product_id"], "quantity": 1})
                for _ in range(8)
            )))

    answers = asyncio.run(retries())
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert stock_of(platform, product["product_id"]) == 9


@pytest.fixture(name="outbox_missing")
def fx_outbox_missing(platform: LocalPlatform) -> Iterator[None]:
    """The outbox table is renamed away while the test runs: the order's transaction fails mid-way."""

    async def rename(source: str, target: str) -> None:
        conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                     password=platform.mysql_root_password, database="orders")
        try:
            async with conn.cursor() as cur:
                await cur.execute(f"RENAME TABLE {source} TO {target}")
        finally:
            conn.close()

    asyncio.run(rename("outbox", "outbox_hidden"))
    try:
        yield
    finally:
        asyncio.run(rename("outbox_hidden", "outbox"))


def test_an_order_whose_mysql_write_fails_leaves_stock_unchanged(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform,
    outbox_missing: None,
) -> None:
    product = new_product(stock=5)
    answer = api.post("/api/orders", headers=user.headers, json={"product_id": product["product_id"], "quantity": 2})
    assert answer.status_code == 503
    assert "Table" not in answer.text and "outbox" not in answer.text  # no internals in a 5xx body
    assert stock_of(platform, product["product_id"]) == 5
    assert api.get("/api/orders", headers=user.headers).json()["items"] == []


def test_every_order_yields_exactly_one_created_event(
    api: httpx.Client, user: Account, new_product: Callable[..., dict[str, Any]], platform: LocalPlatform
) -> None:
    product = new_product(stock=20, price="4.25")
    with OrdersEventsReader(platform) as reader:
        orders = [api.post("/api/orders", headers=user.headers,
                           json={"product_id": product["product_id"], "quantity": 2}).json() for _ in range(5)]
        api.post(f"/api/orders/{orders[0]['id']}/cancel", headers=user.headers)
        ids = {o["id"] for o in orders}
        events = reader.collect(lambda e: e["order_id"] in ids, expected=6, timeout_s=30)
    created = [e for e in events if e["type"] == "order.created"]
    assert sorted(e["order_id"] for e in created) == sorted(ids)
    cancelled = [e for e in events if e["type"] == "order.cancelled"]
    assert [e["order_id"] for e in cancelled] == [orders[0]["id"]]
    sample = created[0]
    assert set(sample) - {"key"} == {
        "event_id", "type", "occurred_at", "order_id", "user_id", "items", "total", "currency",
    }
    assert sample["user_id"] == user.id and sample["total"] == "8.50" and sample["currency"] == "USD"
    assert sample["items"] == [{"product_id": product["product_id"], "quantity": 2, "unit_price": "4.25"}]
    assert sample["occurred_at"].endswith("Z")
    assert all(e["key"] == e["order_id"] for e in events)
    assert len({e["event_id"] for e in events}) == len(events)


def test_concurrent_reservations_share_conditional_writes(
    platform: LocalPlatform, new_product: Callable[..., dict[str, Any]], aws_environ: Callable[[str], dict[str, str]]
) -> None:
    from services.kit.dynamo import DynamoClient
    from services.orders.stock import StockLedger, StockShort

    env = aws_environ("orders")
    product = new_product(stock=50, price="1.50")

    async def storm(ledger: StockLedger, count: int) -> list[object]:
        reservations = (ledger.reserve_one(product["product_id"], 2, uuid.uuid4().hex) for _ in range(count))
        return list(await asyncio.gather(*reservations, return_exceptions=True))

    async def scenario() -> tuple[list[object], int, list[object], int]:
        ledger = StockLedger(DynamoClient(env["AWS_REGION"]), env["TABLE_PRODUCTS"])
        try:
            plenty = await storm(ledger, 20)  # 40 of 50 units: one combined write
            after_plenty = ledger.writes
            scarce = await storm(ledger, 10)  # 20 wanted, 10 left: the combined write fails, then one by one
        finally:
            await ledger.dynamo.close()
        return plenty, after_plenty, scarce, ledger.writes

    plenty, first_writes, scarce, writes = asyncio.run(scenario())
    assert all(not isinstance(r, BaseException) for r in plenty) and first_writes == 1
    assert all(r.unit_price == Decimal("1.50") and r.quantity == 2 for r in plenty)  # type: ignore[union-attr]
    taken = [r for r in scarce if not isinstance(r, BaseException)]
    assert len(taken) == 5 and sum(isinstance(r, StockShort) for r in scarce) == 5
    assert writes == 1 + 1 + 10
    assert stock_of(platform, product["product_id"]) == 0


def test_settled_markers_ride_on_the_next_reservation_of_their_product(
    platform: LocalPlatform, new_product: Callable[..., dict[str, Any]], aws_environ: Callable[[str], dict[str, str]]
) -> None:
    """A settled hold is removed by the product's next reservation, in the same write; a settled hold
    no reservation comes for is removed on its own. Writes are counted on the kit's real client."""
    from services.kit.dynamo import DynamoClient
    from services.orders.stock import FORGET_DELAY_S, StockLedger

    env = aws_environ("orders")
    busy, quiet = new_product(stock=10), new_product(stock=10)

    class Counting(DynamoClient):
        updates = 0

        async def call(self, operation: str, payload: dict[str, Any], attempts: int = 3) -> dict[str, Any]:
            Counting.updates += operation == "UpdateItem"
            return await super().call(operation, payload, attempts)

    async def scenario() -> tuple[int, int]:
        ledger = StockLedger(Counting(env["AWS_REGION"]), env["TABLE_PRODUCTS"])
        try:
            for product in (busy, quiet):
                await ledger.reserve_one(product["product_id"], 1, "first")
                ledger.settled("first", [product["product_id"]])
            before = Counting.updates
            await ledger.reserve_one(busy["product_id"], 1, "second")  # takes "first"'s hold along
            ridden = Counting.updates - before
            await asyncio.sleep(FORGET_DELAY_S + 0.5)  # the quiet product's hold goes on its own
            return ridden, Counting.updates - before
        finally:
            await ledger.dynamo.close()

    ridden, later = asyncio.run(scenario())
    markers = {p: sorted(k for k in product_item(platform, p) if k.startswith("hold_"))
               for p in (busy["product_id"], quiet["product_id"])}
    assert ridden == 1 and markers[busy["product_id"]] == ["hold_second"]
    assert markers[quiet["product_id"]] == [] and later == 2  # the reservation, and the quiet product's removal
    assert stock_of(platform, busy["product_id"]) == 8
