"""The simulated users: Locust behaviours through the public API only (worker process only).

Every request carries an endpoint group as its Locust name (``products.list``, ``orders.create``,
...): latency, errors and thresholds are per group. The data a run uses (shopper accounts, the
products that take orders, search words) comes from the run's dataset file, set by the worker
in :data:`DATASET` before any user starts.

- ``browser``: anonymous browsing, most of the traffic: pages of the catalogue, a category, a
  search, a product, the analytics summary.
- ``shopper``: logs in, reads ``me``, looks at products, orders (one line or several), sometimes
  cancels its last order, reads its orders and notifications.
- ``admin``: one at a time; edits a product's description now and then.
- ``checkout``: the seed's stress loop: order one of the order products, list products, pause.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import gevent
from locust import FastHttpUser, between, task

#: Filled by the worker from the dataset file: accounts, product ids, categories, words.
DATASET: dict[str, Any] = {}
#: Orders the platform accepted (201) and cancelled (200) during the run, by id.
ACCEPTED: list[str] = []
CANCELLED: list[str] = []
_accounts = itertools.count()


def think(user: Any) -> float:
    low, high = DATASET.get("think_time_s", (1.0, 3.0))
    return float(random.uniform(low, high))


LOGIN_ATTEMPTS = 10  # a shopper without a login can do nothing: patient, as a person would be


class _Api(FastHttpUser):
    abstract = True
    wait_time = think
    token: str | None = None

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def login(self, email: str, password: str) -> None:
        """Log in; a login the users service's throttle refused before hashing (503 or 429 with
        ``Retry-After``: too many logins in progress, as when many shoppers arrive at once from the
        load generator's one address) is retried after the wait it asks for, as a real client
        would, up to ``LOGIN_ATTEMPTS`` times. Each refusal is counted in the group
        ``auth.login.throttled``, not as an error."""
        for attempt in range(1, LOGIN_ATTEMPTS + 1):
            with self.client.post("/api/auth/login", json={"email": email, "password": password},
                                  name="auth.login", catch_response=True) as answer:
                if answer.status_code == 200:
                    self.token = answer.json()["access_token"]
                    return
                wait = answer.headers.get("Retry-After", "")
                if answer.status_code not in (429, 503) or not wait.isdigit() or attempt == LOGIN_ATTEMPTS:
                    answer.failure(f"login {answer.status_code}")
                    return
                answer.request_meta["name"] = "auth.login.throttled"
                answer.success()
            gevent.sleep(min(float(wait), 5.0) * random.uniform(1.0, 1.5))

    def browse_product(self) -> None:
        product = random.choice(DATASET["browse_products"])
        self.client.get(f"/api/products/{product}", name="products.get")

    def place_order(self, lines: int) -> str | None:
        chosen = random.sample(DATASET["order_products"], k=min(lines, len(DATASET["order_products"])))
        body = {"items": [{"product_id": p, "quantity": random.randint(1, 2)} for p in chosen]}
        with self.client.post("/api/orders", json=body, headers=self.auth(), name="orders.create",
                              catch_response=True) as answer:
            if answer.status_code == 201:
                order: str = answer.json()["id"]
                ACCEPTED.append(order)
                return order
            answer.failure(f"order {answer.status_code}")
            return None

    def list_products(self) -> None:
        self.client.get("/api/products?limit=20", name="products.list")


class Browser(_Api):
    """An anonymous visitor."""

    @task(4)
    def catalogue(self) -> None:
        self.list_products()

    @task(2)
    def category(self) -> None:
        category = random.choice(DATASET["categories"])
        self.client.get(f"/api/products?category={category}&limit=20", name="products.search")

    @task(2)
    def search(self) -> None:
        word = random.choice(DATASET["words"])
        self.client.get(f"/api/products?q={word}&limit=20", name="products.search")

    @task(5)
    def product(self) -> None:
        self.browse_product()

    @task(1)
    def analytics(self) -> None:
        self.client.get("/api/analytics/summary", name="analytics.summary")


class Shopper(_Api):
    """A registered shopper with an account of its own (round-robin over the dataset's)."""

    last_order: str | None = None

    def on_start(self) -> None:
        accounts = DATASET["shoppers"]
        email, password = accounts[next(_accounts) % len(accounts)]
        self.login(email, password)

    @task(1)
    def me(self) -> None:
        self.client.get("/api/users/me", headers=self.auth(), name="users.me")

    @task(4)
    def look(self) -> None:
        self.browse_product()

    @task(2)
    def order_one(self) -> None:
        self.last_order = self.place_order(1) or self.last_order

    @task(1)
    def order_several(self) -> None:
        self.last_order = self.place_order(random.randint(2, 4)) or self.last_order

    @task(1)
    def cancel(self) -> None:
        if not self.last_order or random.random() > 0.3:
            return
        order, self.last_order = self.last_order, None
        with self.client.post(f"/api/orders/{order}/cancel", headers=self.auth(), name="orders.cancel",
                              catch_response=True) as answer:
            if answer.status_code == 200:
                CANCELLED.append(order)
            elif answer.status_code == 409:
                answer.success()  # already cancelled or no longer cancellable: an answer, not an error
            else:
                answer.failure(f"cancel {answer.status_code}")

    @task(1)
    def orders(self) -> None:
        self.client.get("/api/orders?limit=20", headers=self.auth(), name="orders.list")

    @task(1)
    def notifications(self) -> None:
        self.client.get("/api/notifications?limit=20", headers=self.auth(), name="notifications.list")


class Admin(_Api):
    """The shop's administrator, editing a product now and then (one at a time)."""

    fixed_count = 1

    def on_start(self) -> None:
        self.login(*DATASET["admin"])

    @task
    def edit(self) -> None:
        product = random.choice(DATASET["order_products"])
        self.client.patch(f"/api/products/{product}", headers=self.auth(), name="products.update",
                          json={"description": f"Updated during a scale test ({random.randint(1, 9999)})."})

    wait_time = between(5, 15)


class Checkout(_Api):
    """The seed's stress loop: order one product, list products, pause."""

    def on_start(self) -> None:
        accounts = DATASET["shoppers"]
        email, password = accounts[next(_accounts) % len(accounts)]
        self.login(email, password)

    @task
    def buy(self) -> None:
        self.place_order(1)
        self.list_products()


BEHAVIOURS: dict[str, type[_Api]] = {"browser": Browser, "shopper": Shopper, "admin": Admin, "checkout": Checkout}
