"""Simulated shoppers: demo accounts and one realistic journey each, through the public API only.

A journey browses and searches the catalogue, opens products, sometimes places an order (often
with several lines), sometimes cancels it, sometimes uploads a file, and reads its
notifications. Each placed order is followed until its notification arrives; each upload until
the file processor has written its result.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ecomctl.demo.client import ApiError, ShopClient
from ecomctl.demo.stats import DemoStats, UploadSeen

NAMES = ("ana", "ben", "chloe", "dev", "elif", "farid", "grace", "hugo", "ines", "jonas", "kemi", "lucas")
SEARCH_WORDS = ("trail", "coffee", "desk", "merino", "espresso", "tent", "keyboard", "beans", "knife", "lamp")
FOLLOW_TIMEOUT_S = 60.0
POLL_S = 0.5


@dataclass
class Shopper:
    name: str
    email: str
    token: str


def shopper_password(email: str, secret: str) -> str:
    """The demo account's password: derived from the stack's secret, never stored."""
    return hmac.new(secret.encode(), email.encode(), hashlib.sha256).hexdigest()[:32]


async def ensure_shoppers(
    client: ShopClient, count: int, secret: str, domain: str = "demo.example.com"
) -> list[Shopper]:
    """Register (once) and log in ``count`` demo shoppers."""

    async def one(name: str) -> Shopper:
        email = f"{name}@{domain}"
        password = shopper_password(email, secret)
        await client.call("auth", "POST", "/api/users", expect=(201, 409),
                          json={"name": name.capitalize(), "email": email, "password": password})
        return Shopper(name.capitalize(), email, await client.login(email, password))

    names = [NAMES[i % len(NAMES)] + ("" if i < len(NAMES) else str(i // len(NAMES))) for i in range(count)]
    return list(await asyncio.gather(*(one(n) for n in names)))


def _money(value: Decimal | str) -> str:
    return f"${Decimal(value):,.2f}"


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


class Journeys:
    """Runs shopper journeys; background follow-ups (notifications, uploads) are tracked tasks."""

    def __init__(self, client: ShopClient, stats: DemoStats, stop: asyncio.Event, seed: int | None = None) -> None:
        self.client = client
        self.stats = stats
        self.stop = stop
        self.rng = random.Random(seed)
        self.catalogue: list[dict[str, Any]] = []
        self.shoppers: list[Shopper] = []
        self.follow_ups: set[asyncio.Task[None]] = set()
        self.uploads_started = 0

    async def load_catalogue(self) -> None:
        self.catalogue = [p for p in await self.client.products() if int(p.get("stock", 0)) > 20]

    def product_name(self, product_id: str) -> str:
        return next((p["name"] for p in self.catalogue if p["product_id"] == product_id), product_id[:8])

    async def run(self, shopper: Shopper) -> None:
        """One journey; an API failure ends it (already counted as an error)."""
        self.stats.journeys += 1
        with contextlib.suppress(ApiError):
            await self._journey(shopper)

    async def _journey(self, shopper: Shopper) -> None:
        rng, client = self.rng, self.client
        if rng.random() < 0.5:
            await client.get_json("catalogue", "/api/products", params={"limit": 20})
        else:
            await client.get_json("catalogue", "/api/products", params={"q": rng.choice(SEARCH_WORDS), "limit": 20})
        if not self.catalogue or self.stop.is_set():
            return
        viewed = rng.sample(self.catalogue, k=min(len(self.catalogue), rng.randint(1, 3)))
        for product in viewed:
            await client.get_json("catalogue", f"/api/products/{product['product_id']}")
        if self.stop.is_set():
            return
        if rng.random() < 0.75:
            await self._order(shopper, viewed)
        if self.uploads_started == 0 or rng.random() < 0.08:
            await self._upload(shopper)
        if rng.random() < 0.3:
            await client.get_json("orders", "/api/orders", token=shopper.token, params={"limit": 10})

    async def _order(self, shopper: Shopper, viewed: list[dict[str, Any]]) -> None:
        lines = [{"product_id": p["product_id"], "quantity": self.rng.choice((1, 1, 1, 2, 3))} for p in viewed]
        res = await self.client.call("orders", "POST", "/api/orders", token=shopper.token, expect=(201,),
                                     json={"items": lines}, headers={"Idempotency-Key": uuid.uuid4().hex})
        order = res.json()
        took_ms = res.elapsed.total_seconds() * 1000
        self.stats.order_placed(order["total"])
        what = ", ".join(f"{i['quantity']} × {i['name']}" for i in order["items"])
        self.stats.narrate(f"{shopper.name} ordered {what} for {_money(order['total'])}; "
                           f"confirmed in {took_ms:.0f} ms")
        self._follow(self._notification(shopper, order))
        if self.rng.random() < 0.15 and not self.stop.is_set():
            await asyncio.sleep(self.rng.uniform(0.5, 2.0))
            await self.client.call("orders", "POST", f"/api/orders/{order['id']}/cancel", token=shopper.token)
            self.stats.order_cancelled(order["total"])
            self.stats.narrate(f"{shopper.name} cancelled that order; {_money(order['total'])} and the stock released")

    async def _notification(self, shopper: Shopper, order: dict[str, Any]) -> None:
        deadline = time.monotonic() + FOLLOW_TIMEOUT_S
        while time.monotonic() < deadline:
            page = await self.client.get_json("notifications", "/api/notifications", token=shopper.token,
                                              params={"limit": 20})
            found = next((n for n in page["items"] if n["order_id"] == order["id"]
                          and n["type"] == "order.created"), None)
            if found is not None:
                delay = (_parse(found["sent_at"]) - _parse(order["created_at"])).total_seconds()
                self.stats.notification_delays.append(delay)
                self.stats.narrate(f"{shopper.name}'s notification for that {_money(order['total'])} order "
                                   f"arrived {delay:.1f} s after it was placed")
                return
            await asyncio.sleep(POLL_S)

    async def _upload(self, shopper: Shopper) -> None:
        self.uploads_started += 1
        content = "\n".join(f"{p['name']},{self.rng.randint(1, 9)}" for p in self.rng.sample(
            self.catalogue, k=min(5, len(self.catalogue)))).encode() + b"\n"
        form = (await self.client.call("uploads", "POST", "/api/s3/presigned-url", token=shopper.token, json={
            "file_name": f"wishlist-{shopper.name.lower()}.csv", "file_type": "text/csv"})).json()
        await self.client.call("uploads", "POST", form["url"], url=form["url"], data=form["fields"],
                               files={"file": ("wishlist.csv", content, "text/csv")}, expect=(200, 201, 204))
        self.stats.narrate(f"{shopper.name} uploaded a wish list ({len(content)} bytes)")
        self._follow(self._processed(shopper, str(form["key"]), time.monotonic()))

    async def _processed(self, shopper: Shopper, key: str, started: float) -> None:
        deadline = started + FOLLOW_TIMEOUT_S
        while time.monotonic() < deadline:
            body = await self.client.get_json("uploads", "/api/s3/file-status", token=shopper.token,
                                              params={"key": key})
            if body.get("processed"):
                result = body.get("result") or {}
                seen = UploadSeen(key, str(result.get("status", "?")), int(result.get("lines", 0)),
                                  int(result.get("words", 0)), time.monotonic() - started)
                self.stats.uploads.append(seen)
                self.stats.narrate(f"the file processor read {shopper.name}'s upload: {seen.lines} lines, "
                                   f"{seen.words} words, {seen.processed_after_s:.1f} s after the upload")
                return
            await asyncio.sleep(POLL_S * 2)

    def _follow(self, coro: Any) -> None:
        async def guarded() -> None:
            with contextlib.suppress(ApiError):
                await coro

        task = asyncio.ensure_future(guarded())
        self.follow_ups.add(task)
        task.add_done_callback(self.follow_ups.discard)
