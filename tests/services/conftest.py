"""Fixtures for the service tests: HTTP clients on the session platform, accounts, products.

Every test talks to the real services through the api-gateway (or a service directly), backed
by the platform's MariaDB, Kafka, DynamoDB Local and AWS API endpoint.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def loopback_addresses(count: int) -> list[str]:
    """``count`` distinct random addresses of 127.0.0.0/8 (all of it is loopback on Linux).

    The users service throttles logins per client address for 5 minutes; a client bound to its
    own address keeps other tests' failed logins (and schemathesis's) from counting against it."""
    picked: set[str] = set()
    while len(picked) < count:
        picked.add(f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}")
    return sorted(picked)


@pytest.fixture(name="api", scope="session")
def fx_api(platform: LocalPlatform) -> Iterator[httpx.Client]:
    """A client of the public API (the gateway), from an address of its own."""
    transport = httpx.HTTPTransport(local_address=loopback_addresses(1)[0])
    with httpx.Client(base_url=platform.gateway_url, timeout=15, transport=transport) as client:
        yield client


def login(api: httpx.Client, email: str, password: str) -> str:
    answer = api.post("/api/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


@pytest.fixture(name="admin", scope="session")
def fx_admin(api: httpx.Client, platform: LocalPlatform) -> Account:
    token = login(api, platform.admin_email, platform.admin_password)
    me = api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "admin"
    return Account(me["id"], platform.admin_email, platform.admin_password, token)


@pytest.fixture(name="new_user", scope="session")
def fx_new_user(api: httpx.Client) -> Callable[[], Account]:
    """Registers a fresh account and logs it in."""

    def make() -> Account:
        email = f"user-{uuid.uuid4().hex[:12]}@example.com"
        password = "correct horse battery"
        created = api.post("/api/users", json={"name": "Test User", "email": email, "password": password})
        assert created.status_code == 201, created.text
        return Account(created.json()["id"], email, password, login(api, email, password))

    return make


@pytest.fixture(name="user")
def fx_user(new_user: Callable[[], Account]) -> Account:
    return new_user()


@pytest.fixture(name="new_product")
def fx_new_product(api: httpx.Client, admin: Account) -> Iterator[Callable[..., dict[str, Any]]]:
    """Creates products as the admin; deletes them after the test."""
    made: list[str] = []

    def make(stock: int = 10, price: str = "19.99", **fields: Any) -> dict[str, Any]:
        body = {"name": f"Test product {uuid.uuid4().hex[:8]}", "price": price, "stock": stock, **fields}
        answer = api.post("/api/products", json=body, headers=admin.headers)
        assert answer.status_code == 201, answer.text
        product: dict[str, Any] = answer.json()
        made.append(product["product_id"])
        return product

    yield make
    for product_id in made:
        api.delete(f"/api/products/{product_id}", headers=admin.headers)


def stock_of(platform: LocalPlatform, product_id: str) -> int:
    """The stock as stored (read straight from DynamoDB, no cache in between)."""
    return int(product_item(platform, product_id)["stock"]["N"])


def product_item(platform: LocalPlatform, product_id: str) -> dict[str, Any]:
    """The product's item as stored, every attribute (read straight from DynamoDB)."""
    import boto3

    env = platform.service_env("products")
    client = boto3.client(
        "dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name=env["AWS_REGION"],
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "local"),
    )
    item: dict[str, Any] = client.get_item(TableName=env["TABLE_PRODUCTS"], Key={"product_id": {"S": product_id}},
                                           ConsistentRead=True)["Item"]
    return item


@pytest.fixture(name="aws_environ")
def fx_aws_environ(platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], dict[str, str]]:
    """For in-process services: put a service's AWS SDK settings (endpoints, keys) in os.environ."""

    def apply(service: str) -> dict[str, str]:
        env = platform.service_env(service)
        for key, value in env.items():
            if key.startswith("AWS_"):
                monkeypatch.setenv(key, value)
        return env

    return apply
