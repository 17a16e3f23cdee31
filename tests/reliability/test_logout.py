"""``POST /api/auth/logout`` revokes the caller's token: within a second every service refuses it,
through the gateway and on its own port; other tokens of the same account keep working."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, login

pytestmark = pytest.mark.platform

# one authenticated route per service (on its own port) and through the gateway
ROUTES = {
    "users": "/api/users/me",
    "orders": "/api/orders",
    "notifications": "/api/notifications",
    "products": "/api/products?limit=1",
}


def test_a_logged_out_token_is_refused_everywhere_within_a_second(
    api: httpx.Client, platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    user = new_user()
    other_session = login(api, user.email, user.password)
    headers = user.headers
    direct = {name: platform.service_env(name) for name in ROUTES}
    for name, path in ROUTES.items():
        assert api.get(path, headers=headers).status_code == 200, name
    answer = api.post("/api/auth/logout", headers=headers)
    assert answer.status_code == 204, answer.text
    logged_out = time.monotonic()
    time.sleep(1.0)
    refused_within = time.monotonic() - logged_out
    for name, path in ROUTES.items():
        through_gateway = api.get(path, headers=headers)
        assert through_gateway.status_code == 401, (name, through_gateway.text)
        own_port = httpx.get(f"http://127.0.0.1:{direct[name]['PORT']}{path}", headers=headers, timeout=10)
        assert own_port.status_code == 401, (name, own_port.text)
        assert "revoked" in own_port.json()["detail"]
    assert refused_within < 1.5
    assert api.get("/api/users/me", headers={"Authorization": f"Bearer {other_session}"}).status_code == 200
    assert api.post("/api/auth/logout").status_code == 401  # logout needs the token it revokes
