"""Expired, forged and revoked tokens get 401 at the gateway and on every service's own port.

The forgeries are made with the stack's real JWT key where that is the point (expired, another
algorithm, no expiry) and without it where the attacker has none (no signature, another key, a
role claim changed under the original signature). Each target first accepts the genuine token,
so a 401 is the forgery's doing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest

from ecomctl.local.platform import LocalPlatform
from services.kit.auth import ISSUER, Caller, issue_token
from tests.reliability.test_logout import ROUTES as LOGOUT_ROUTES
from tests.services.conftest import Account

pytestmark = pytest.mark.platform

# one route per service that reads the caller (products: an optional caller, a bad token is still 401)
SERVICE_ROUTES = {**LOGOUT_ROUTES, "analytics": "/api/analytics/flink/top-users"}
GATEWAY_ONLY = "/api/s3/file-status?key=uploads/someone/file.txt"  # the gateway's own route


def targets(platform: LocalPlatform) -> list[tuple[str, str]]:
    """(name, URL): each route through the gateway, and straight to the service's port."""
    found = [(f"gateway {path}", f"{platform.gateway_url}{path}") for path in [*SERVICE_ROUTES.values(), GATEWAY_ONLY]]
    for name, path in SERVICE_ROUTES.items():
        found.append((f"{name} port", f"http://127.0.0.1:{platform.service_env(name)['PORT']}{path}"))
    return found


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def claims(account: Account, role: str = "user", **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": account.id, "email": account.email, "role": role, "iat": now, "exp": now + 600, "iss": ISSUER,
            "jti": uuid.uuid4().hex}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def forgeries(secret: str, account: Account) -> dict[str, str]:
    header, _, signature = account.token.split(".")
    return {
        "expired": issue_token(secret, Caller(account.id, account.email, "user"), 60, now=time.time() - 3600),
        "alg none, role admin": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims(account, 'admin'))}.",
        "signed with another key": jwt.encode(claims(account), "another key " + "x" * 40, algorithm="HS256"),
        "role changed to admin, original signature": f"{header}.{b64(claims(account, 'admin'))}.{signature}",
        "HS512 with the real key": jwt.encode(claims(account), secret, algorithm="HS512"),
        "no expiry, real key": jwt.encode(claims(account, exp=None), secret, algorithm="HS256"),
        "another issuer, real key": jwt.encode(claims(account, iss="someone-else"), secret, algorithm="HS256"),
        "garbage": "not.a.token",
    }


def statuses(platform: LocalPlatform, token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    return {name: httpx.get(url, headers=headers, timeout=15).status_code for name, url in targets(platform)}


@pytest.mark.filterwarnings("ignore:The HMAC key is 48 bytes long")  # the HS512 forgery's key
def test_forged_and_expired_tokens_are_refused_everywhere(
    platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    user = new_user()
    genuine = statuses(platform, user.token)
    assert 401 not in genuine.values(), genuine
    secret = platform.service_env("users")["JWT_SECRET"]
    accepted = {kind: {name: status for name, status in statuses(platform, token).items() if status != 401}
                for kind, token in forgeries(secret, user).items()}
    assert {kind: found for kind, found in accepted.items() if found} == {}


def test_a_revoked_token_is_refused_everywhere(platform: LocalPlatform, new_user: Callable[[], Account]) -> None:
    user = new_user()
    assert 401 not in statuses(platform, user.token).values()
    assert httpx.post(f"{platform.gateway_url}/api/auth/logout", headers=user.headers, timeout=15).status_code == 204
    deadline = time.monotonic() + 1.5  # every service re-reads the revoked ids every 0.5 s
    while True:
        still = {name: status for name, status in statuses(platform, user.token).items() if status != 401}
        if not still or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert still == {}
