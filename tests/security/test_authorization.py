"""The authorization matrix: every operation of the public API x {anonymous, user, other user, admin}.

The operations come from the gateway's OpenAPI document at run time: one missing from ``EXPECTED``
fails the test, so a new route cannot escape. "user" owns the resources a route names (an order,
an upload, its account); "other" is a second ordinary account acting on them. Each cell is one
real request through the gateway to the real services; mutating routes get a fresh resource per
cell (an order to cancel, a product to delete, a token to log out). The whole matrix is asked
twice: through the gateway and straight to the service that owns each route.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from services.gateway.settings import ROUTES
from tests.security.conftest import upload
from tests.services.conftest import Account, login, loopback_addresses

pytestmark = pytest.mark.platform

ROLES = ("anonymous", "user", "other", "admin")

EXPECTED: dict[str, tuple[int, int, int, int]] = {
    # operation: status for (anonymous, user = the owner, other user, admin)
    "GET /api/analytics/flink/top-users": (401, 403, 403, 200),
    "GET /api/analytics/summary": (200, 200, 200, 200),
    "GET /api/analytics/top-products": (200, 200, 200, 200),
    "GET /api/analytics/windows": (200, 200, 200, 200),
    "POST /api/auth/login": (200, 200, 200, 200),
    "POST /api/auth/logout": (401, 204, 204, 204),
    "GET /api/notifications": (401, 200, 200, 200),
    "GET /api/orders": (401, 200, 200, 200),
    "POST /api/orders": (401, 201, 201, 201),
    "GET /api/orders/{order_id}": (401, 200, 404, 200),
    "POST /api/orders/{order_id}/cancel": (401, 200, 404, 200),
    "GET /api/products": (200, 200, 200, 200),
    "POST /api/products": (401, 403, 403, 201),
    "GET /api/products/{product_id}": (200, 200, 200, 200),
    "DELETE /api/products/{product_id}": (401, 403, 403, 204),
    "PATCH /api/products/{product_id}": (401, 403, 403, 200),
    "GET /api/s3/file-status": (401, 200, 404, 404),  # uploads are their owner's alone, the admin's too
    "POST /api/s3/presigned-url": (401, 200, 200, 200),
    "GET /api/users": (401, 403, 403, 200),
    "POST /api/users": (201, 201, 201, 201),
    "GET /api/users/me": (401, 200, 200, 200),
    "GET /api/users/{user_id}": (401, 200, 404, 200),
}

SEES_OWNERS_DATA: dict[str, tuple[bool, bool, bool, bool]] = {
    # list operations whose 200 answer must (True) or must not (False) contain the owner's resource
    "GET /api/orders": (False, True, False, True),  # asked with ?user_id=<owner>
    "GET /api/notifications": (False, True, False, False),
    "GET /api/users/me": (False, True, False, False),
}


@dataclass
class Stage:
    """The accounts and the owner's resources the cells act on."""

    api: httpx.Client
    accounts: dict[str, Account]  # "user" (the owner), "other", "admin"
    product_id: str
    order_id: str
    upload_key: str
    made_products: list[str] = field(default_factory=list)

    @property
    def owner(self) -> Account:
        return self.accounts["user"]

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else self.accounts[role].headers

    def fresh_token(self, role: str) -> dict[str, str]:
        """A token of its own (what a logout may revoke)."""
        if role == "anonymous":
            return {}
        account = self.accounts[role]
        return {"Authorization": f"Bearer {login(self.api, account.email, account.password)}"}

    def place_order(self) -> str:
        answer = self.api.post("/api/orders", json={"product_id": self.product_id, "quantity": 1},
                               headers=self.owner.headers)
        assert answer.status_code == 201, answer.text
        order_id: str = answer.json()["id"]
        return order_id

    def make_product(self) -> str:
        answer = self.api.post("/api/products", headers=self.accounts["admin"].headers,
                               json={"name": f"Matrix {uuid.uuid4().hex[:8]}", "price": "3.50", "stock": 1000})
        assert answer.status_code == 201, answer.text
        product_id: str = answer.json()["product_id"]
        self.made_products.append(product_id)
        return product_id


Call = tuple[dict[str, str], dict[str, Any]]  # path parameters, httpx keyword arguments
REQUESTS: dict[str, Callable[[Stage, str], Call]] = {
    "GET /api/analytics/flink/top-users": lambda s, r: ({}, {"params": {"windows": 5}}),
    "GET /api/analytics/summary": lambda s, r: ({}, {}),
    "GET /api/analytics/top-products": lambda s, r: ({}, {}),
    "GET /api/analytics/windows": lambda s, r: ({}, {}),
    "POST /api/auth/login": lambda s, r: ({}, {"json": {"email": s.owner.email, "password": s.owner.password}}),
    "POST /api/auth/logout": lambda s, r: ({}, {"headers": s.fresh_token(r)}),
    "GET /api/notifications": lambda s, r: ({}, {}),
    "GET /api/orders": lambda s, r: ({}, {"params": {"user_id": s.owner.id}}),
    "POST /api/orders": lambda s, r: ({}, {"json": {"product_id": s.product_id, "quantity": 1}}),
    "GET /api/orders/{order_id}": lambda s, r: ({"order_id": s.order_id}, {}),
    "POST /api/orders/{order_id}/cancel": lambda s, r: ({"order_id": s.place_order()}, {}),
    "GET /api/products": lambda s, r: ({}, {"params": {"limit": 5}}),
    "POST /api/products": lambda s, r: ({}, {"json": {"name": f"Matrix {uuid.uuid4().hex[:8]}", "price": "1.00"}}),
    "GET /api/products/{product_id}": lambda s, r: ({"product_id": s.product_id}, {}),
    "DELETE /api/products/{product_id}": lambda s, r: ({"product_id": s.make_product()}, {}),
    "PATCH /api/products/{product_id}": lambda s, r: ({"product_id": s.product_id},
                                                      {"json": {"description": f"edited by {r}"}}),
    "GET /api/s3/file-status": lambda s, r: ({}, {"params": {"key": s.upload_key}}),
    "POST /api/s3/presigned-url": lambda s, r: ({}, {"json": {"file_name": "notes.txt", "file_type": "text/plain"}}),
    "GET /api/users": lambda s, r: ({}, {}),
    "POST /api/users": lambda s, r: ({}, {"json": {"name": "Matrix", "password": "correct horse battery",
                                                   "email": f"matrix-{uuid.uuid4().hex[:12]}@example.com"}}),
    "GET /api/users/me": lambda s, r: ({}, {}),
    "GET /api/users/{user_id}": lambda s, r: ({"user_id": s.owner.id}, {}),
}


def operations(document: dict[str, Any]) -> list[str]:
    """``"METHOD /path"`` of every operation in an OpenAPI document."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    return sorted(f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in methods)


def wait_for_notification(api: httpx.Client, account: Account, order_id: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if order_id in api.get("/api/notifications", headers=account.headers).text:
            return
        time.sleep(0.5)
    raise AssertionError(f"no notification for order {order_id} within {timeout_s} s")


@pytest.fixture(name="stage", scope="module")
def fx_stage(platform: LocalPlatform, new_user: Callable[[], Account], admin: Account) -> Iterator[Stage]:
    transport = httpx.HTTPTransport(local_address=loopback_addresses(1)[0])
    with httpx.Client(base_url=platform.gateway_url, timeout=15, transport=transport) as api:
        owner, other = new_user(), new_user()
        admin_token = login(api, platform.admin_email, platform.admin_password)  # not the session's: it may be revoked
        stage = Stage(api, {"user": owner, "other": other,
                            "admin": Account(admin.id, admin.email, admin.password, admin_token)}, "", "", "")
        stage.product_id = stage.make_product()
        stage.order_id = stage.place_order()
        stage.upload_key = upload(api, owner, b"the owner's file\n")
        wait_for_notification(api, owner, stage.order_id)
        yield stage
        for product_id in stage.made_products:
            api.delete(f"/api/products/{product_id}", headers=stage.accounts["admin"].headers)


@pytest.fixture(name="public_operations", scope="module")
def fx_public_operations(platform: LocalPlatform) -> list[str]:
    answer = httpx.get(f"{platform.gateway_url}/schema", timeout=15)
    assert answer.status_code == 200 and "no-store" not in answer.headers.get("cache-control", "")  # complete
    return operations(answer.json())


def test_every_public_operation_has_a_row(public_operations: list[str]) -> None:
    assert len(public_operations) >= 20
    assert sorted(set(public_operations) - set(EXPECTED)) == [], "add the new operation to EXPECTED and REQUESTS"
    assert sorted(set(EXPECTED) - set(public_operations)) == [], "the table names an operation the API lost"


def service_base(platform: LocalPlatform, path: str) -> str | None:
    """The base URL of the service that serves ``path`` on its own port (None: the gateway's own route)."""
    for prefix, service in ROUTES:
        if path == prefix or path.startswith(prefix + "/"):
            return f"http://127.0.0.1:{platform.service_env(service)['PORT']}"
    return None


@pytest.mark.parametrize("via", ["gateway", "service port"])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(platform: LocalPlatform, stage: Stage, public_operations: list[str],
                                             role: str, via: str) -> None:
    """Through the gateway, and again straight to each service's port: a service does not rely on
    the gateway to decide who may do what."""
    column = ROLES.index(role)
    wrong: list[str] = []
    asked = 0
    for operation in random.sample(public_operations, len(public_operations)):  # no order to lean on
        if operation not in EXPECTED:
            continue  # reported by test_every_public_operation_has_a_row
        method, template = operation.split(" ", 1)
        base = platform.gateway_url if via == "gateway" else service_base(platform, template)
        if base is None:
            continue  # the gateway's own route (uploads): no service port behind it
        path_params, kwargs = REQUESTS[operation](stage, role)
        kwargs["headers"] = {**stage.headers(role), **kwargs.get("headers", {})}
        answer = stage.api.request(method, base + template.format(**path_params), **kwargs)
        asked += 1
        if method == "POST" and template == "/api/products" and answer.status_code == 201:
            stage.made_products.append(answer.json()["product_id"])
        expected = EXPECTED[operation][column]
        if answer.status_code != expected:
            wrong.append(f"{operation}: {answer.status_code}, expected {expected}: {answer.text[:160]}")
            continue
        if answer.status_code >= 400:
            assert answer.headers["content-type"].startswith("application/problem+json"), operation
        if operation in SEES_OWNERS_DATA and answer.status_code == 200:
            marker = stage.owner.id if operation == "GET /api/users/me" else stage.order_id
            if (marker in answer.text) != SEES_OWNERS_DATA[operation][column]:
                wrong.append(f"{operation}: the owner's data {'missing' if marker not in answer.text else 'shown'}")
    assert wrong == []
    assert asked >= len(EXPECTED) - 2
