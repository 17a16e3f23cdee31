"""The seed's stress test as a plain Locust file: an independent check of ``ecomctl scale-test``.

    ADMIN_EMAIL=... ADMIN_PASSWORD=... .venv/bin/locust -f bench/seed_stress.py --headless \\
        --host http://127.0.0.1:8000 -u 200 -r 6.67 -t 90s --csv /tmp/seed-stress

(``ecomctl credentials --json`` prints the admin login.) Each user logs in once with an account
of its own, then loops: order one unit of a random one of 100 products, list products, sleep
0.5 s. Ramp 30 s to 200 users, 60 s at 200: the seed's profile, with authentication added.

It shares nothing with ``ecomctl scale-test`` (own products ``seed-stress-*`` with stock for
any run, own accounts, own client code): only Locust and the shop's public API. Compare its
``--csv`` figures (orders per second, the order p95) with ``ecomctl scale-test --profile stress``
on the same stack and machine; docs/scale-test.md quotes both.
"""

from __future__ import annotations

import itertools
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from locust import FastHttpUser, constant, events, task

PRODUCTS = 100
USERS = 200
STOCK = 10_000_000
PASSWORD = "seed-stress-password-1"
_products: list[str] = []
_next_account = itertools.count()


def _email(n: int) -> str:
    return f"seed-stress-{n:04d}@seed-stress.example"


@events.init.add_listener
def _prepare(environment: Any, **_: Any) -> None:
    """Products and accounts, created once per stack (later runs find them), before the clock starts."""
    host = environment.host
    with httpx.Client(base_url=host, timeout=60) as api:
        login = api.post("/api/auth/login", json={"email": os.environ["ADMIN_EMAIL"],
                                                  "password": os.environ["ADMIN_PASSWORD"]})
        login.raise_for_status()
        admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
        have: dict[str, str] = {}
        cursor: str | None = None
        while True:
            page = api.get("/api/products", params={"category": "seed-stress", "limit": 100,
                                                    **({"cursor": cursor} if cursor else {})}).json()
            have.update({p["name"]: p["product_id"] for p in page["items"]})
            cursor = page.get("next_cursor")
            if not cursor:
                break
        for n in range(PRODUCTS):
            name = f"seed-stress-{n:03d}"
            if name not in have:
                made = api.post("/api/products", headers=admin, json={
                    "name": name, "price": "9.99", "stock": STOCK, "category": "seed-stress",
                    "description": "a product of the independent stress run"})
                made.raise_for_status()
                have[name] = made.json()["product_id"]
        _products[:] = [have[f"seed-stress-{n:03d}"] for n in range(PRODUCTS)]

    def register(n: int) -> None:
        with httpx.Client(base_url=host, timeout=60) as api:
            answer = api.post("/api/users", json={"name": f"Seed Stress {n}", "email": _email(n),
                                                  "password": PASSWORD})
            if answer.status_code not in (201, 409):
                answer.raise_for_status()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(register, range(USERS)))


class Shopper(FastHttpUser):
    wait_time = constant(0.5)
    token = ""

    def on_start(self) -> None:
        email = _email(next(_next_account) % USERS)
        for _ in range(5):  # a login the throttle refuses (503, Retry-After) is tried again
            with self.client.post("/api/auth/login", json={"email": email, "password": PASSWORD},
                                  name="login", catch_response=True) as answer:
                if answer.status_code == 200:
                    self.token = answer.json()["access_token"]
                    return
                answer.success()
            self.wait()

    @task
    def iteration(self) -> None:
        self.client.post("/api/orders", name="order",
                         json={"items": [{"product_id": random.choice(_products), "quantity": 1}]},
                         headers={"Authorization": f"Bearer {self.token}"})
        self.client.get("/api/products?limit=20", name="list")
