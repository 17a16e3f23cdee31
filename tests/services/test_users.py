"""The users API through the gateway: registration, login, me, self-or-admin reads, admin listing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.services.conftest import Account

pytestmark = pytest.mark.platform


def test_register_returns_the_user_without_password(api: httpx.Client) -> None:
    email = f"Mixed-{uuid.uuid4().hex[:8]}@Example.com"
    answer = api.post("/api/users", json={"name": "Ann", "email": email, "password": "s3cret-pass"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["email"] == email.lower() and body["name"] == "Ann" and body["role"] == "user"
    assert "password" not in answer.text and "hash" not in answer.text
    assert body["created_at"].endswith("Z")


def test_register_twice_is_a_conflict_case_insensitively(api: httpx.Client, user: Account) -> None:
    again = api.post("/api/users", json={"name": "X", "email": user.email.upper(), "password": "another-pass"})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["status"] == 409


@pytest.mark.parametrize("body", [
    {}, {"name": "A", "email": "not-an-email", "password": "long-enough"},
    {"name": "A", "email": "a@b.co", "password": "short"}, {"name": "", "email": "a@b.co", "password": "x" * 9},
    [1, 2], {"name": 5, "email": "a@b.co", "password": "long-enough"},
])
def test_invalid_registration_is_a_4xx_with_a_json_body(api: httpx.Client, body: object) -> None:
    answer = api.post("/api/users", json=body)
    assert answer.status_code in (400, 422)
    assert answer.json()["detail"]


def test_malformed_json_is_a_400(api: httpx.Client) -> None:
    answer = api.post("/api/users", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["status"] == 400


def test_login(api: httpx.Client, user: Account) -> None:
    answer = api.post("/api/auth/login", json={"email": user.email.upper(), "password": user.password})
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and body["access_token"].count(".") == 2


@pytest.mark.parametrize("mistake", ["password", "email"])
def test_bad_login_is_401(api: httpx.Client, user: Account, mistake: str) -> None:
    email = user.email if mistake == "password" else f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    answer = api.post("/api/auth/login", json={"email": email, "password": "wrong-password"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "wrong e-mail or password"


def test_me(api: httpx.Client, user: Account) -> None:
    answer = api.get("/api/users/me", headers=user.headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == user.id and answer.json()["email"] == user.email


@pytest.mark.parametrize("header", [None, "Bearer not.a.token", "Basic abc", "Bearer"])
def test_me_without_a_valid_token_is_401(api: httpx.Client, header: str | None) -> None:
    answer = api.get("/api/users/me", headers={} if header is None else {"Authorization": header})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_token_signed_with_another_secret_is_401(api: httpx.Client, user: Account) -> None:
    import jwt

    claims = jwt.decode(user.token, options={"verify_signature": False})
    other_secret = "not-the-stack-secret-but-long-enough-for-hs256"
    forged = jwt.encode({**claims, "role": "admin"}, other_secret, algorithm="HS256")
    assert api.get("/api/users", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_user_by_id_is_self_or_admin(api: httpx.Client, new_user: Callable[[], Account], admin: Account) -> None:
    alice, bob = new_user(), new_user()
    assert api.get(f"/api/users/{alice.id}", headers=alice.headers).json()["id"] == alice.id
    assert api.get(f"/api/users/{alice.id}", headers=bob.headers).status_code == 404
    assert api.get(f"/api/users/{alice.id}", headers=admin.headers).json()["email"] == alice.email
    assert api.get(f"/api/users/{uuid.uuid4().hex}", headers=admin.headers).status_code == 404


def test_listing_users_is_for_admins_and_paginates(
    api: httpx.Client, new_user: Callable[[], Account], admin: Account, user: Account
) -> None:
    assert api.get("/api/users", headers=user.headers).status_code == 403
    assert api.get("/api/users").status_code == 401
    created = {new_user().id for _ in range(3)}
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = api.get("/api/users", params=params, headers=admin.headers)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        seen.extend(u["id"] for u in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert created <= set(seen) and len(seen) == len(set(seen))


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "%%%"}])
def test_bad_list_parameters_are_400(api: httpx.Client, admin: Account, params: dict[str, object]) -> None:
    answer = api.get("/api/users", params=params, headers=admin.headers)
    assert answer.status_code in (400, 422)
