"""Rules every route shares: one Authorization header, bounded bodies (413 problem answers)."""

from __future__ import annotations

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from services.gateway.settings import PUBLIC_QUERY, Settings
from services.kit.settings import API_BODY_BYTES
from tests.services.conftest import Account

pytestmark = pytest.mark.platform

SERVICE_ROUTES = {  # a route of each service that reads the caller
    "users": ("GET", "/api/users/me"), "products": ("POST", "/api/products"),
    "orders": ("POST", "/api/orders"), "notifications": ("GET", "/api/notifications"),
    "analytics": ("GET", "/api/analytics/flink/top-users"),
}


def _two_authorizations(user: Account) -> list[tuple[str, str]]:
    return [("Authorization", user.headers["Authorization"]), ("Authorization", "Bearer forged")]


@pytest.mark.parametrize("service", sorted(SERVICE_ROUTES))
def test_more_than_one_authorization_header_is_a_400_everywhere(
    platform: LocalPlatform, user: Account, service: str
) -> None:
    method, path = SERVICE_ROUTES[service]
    body = b'{"lines": [{"product_id": "p", "quantity": 1}]}' if service == "orders" else None
    for base in (platform.gateway_url, platform.service_url(service)):
        answer = httpx.request(method, base + path, headers=_two_authorizations(user), content=body)
        assert answer.status_code == 400, (base, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 400


BODY_ROUTES = {"api-gateway": "/api/s3/presigned-url", "users": "/api/users", "products": "/api/products",
               "orders": "/api/orders"}  # the routes that take a body (the others never read one)


@pytest.mark.parametrize("service", sorted(BODY_ROUTES))
def test_a_body_past_the_limit_is_a_413_problem_on_every_port(
    platform: LocalPlatform, user: Account, service: str
) -> None:
    answer = httpx.post(platform.service_url(service) + BODY_ROUTES[service],
                        headers={**user.headers, "content-type": "application/json"},
                        content=b" " * (API_BODY_BYTES + 1))
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Content Too Large"


def test_the_gateway_own_routes_take_small_bodies_only(platform: LocalPlatform, user: Account) -> None:
    limit = Settings.own_body_bytes
    answer = httpx.post(f"{platform.gateway_url}/api/s3/presigned-url", headers=user.headers,
                        json={"file_name": "a.txt", "file_type": "text/plain", "pad": "x" * limit})
    assert answer.status_code == 413 and answer.json()["status"] == 413


def test_public_cache_keys_are_the_query_parameters_of_the_routes(platform: LocalPlatform) -> None:
    for service, names in PUBLIC_QUERY.items():
        document = httpx.get(f"{platform.service_url(service)}/schema/openapi.json").json()
        used = {parameter["name"] for item in document["paths"].values() for method, operation in item.items()
                if method == "get" for parameter in operation.get("parameters", []) if parameter["in"] == "query"}
        assert used == names
