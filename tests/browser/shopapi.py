"""Setup through the public API (the same API the page uses): admin products, orders to check."""

from __future__ import annotations

import time
import uuid
from types import TracebackType
from typing import Any

import httpx


class ShopApi:
    """A thin admin client of the gateway for arranging test data."""

    def __init__(self, gateway_url: str, admin_email: str, admin_password: str) -> None:
        self._client = httpx.Client(base_url=gateway_url, timeout=15.0)
        self._admin_email = admin_email
        self._admin_password = admin_password
        self._admin_token: str | None = None

    def __enter__(self) -> ShopApi:
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self._client.close()

    def token(self, email: str, password: str) -> str:
        res = self._client.post("/api/auth/login", json={"email": email, "password": password})
        res.raise_for_status()
        return str(res.json()["access_token"])

    def _admin(self) -> dict[str, str]:
        if self._admin_token is None:
            self._admin_token = self.token(self._admin_email, self._admin_password)
        return {"Authorization": f"Bearer {self._admin_token}"}

    def create_product(self, name: str, price: str, stock: int, category: str = "browser-tests",
                       description: str = "") -> dict[str, Any]:
        body = {"name": name, "price": price, "stock": stock, "category": category, "description": description}
        res = self._client.post("/api/products", json=body, headers=self._admin())
        assert res.status_code == 201, res.text
        return dict(res.json())

    def product(self, product_id: str) -> dict[str, Any]:
        res = self._client.get(f"/api/products/{product_id}")
        res.raise_for_status()
        return dict(res.json())

    def settled_stock(self, product_id: str, expected: int, within_s: float = 5.0) -> int:
        """The product's stock once it equals ``expected`` (reads may be cached for a second), or the
        last value seen when ``within_s`` runs out."""
        deadline = time.monotonic() + within_s
        while True:
            stock = int(self.product(product_id)["stock"])
            if stock == expected or time.monotonic() >= deadline:
                return stock
            time.sleep(0.2)

    def order(self, token: str, order_id: str) -> dict[str, Any]:
        res = self._client.get(f"/api/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
        res.raise_for_status()
        return dict(res.json())

    def get_raw(self, path: str) -> httpx.Response:
        return self._client.get(path)


def unique(prefix: str) -> str:
    """A word no other test (or earlier run) uses, for searching."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"
