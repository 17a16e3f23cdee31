"""The api-gateway: routing, auth at the edge, request ids, CORS, /schema, the storefront,
uploads, and clean 502/503/504 answers for unreachable or slow upstreams."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable

import boto3
import httpx
import pytest
from litestar.testing import AsyncTestClient
from openapi_spec_validator import validate

from blueprint.topology import TOPOLOGY
from ecomctl.local.platform import LocalPlatform
from services.gateway.app import create_app
from services.gateway.settings import MAX_UPLOAD_BYTES, ROUTES, UPLOAD_TYPES, Settings
from tests.services.conftest import Account

pytestmark = pytest.mark.platform


def test_routes_and_upload_rules_mirror_the_topology() -> None:
    assert {(r.prefix, r.service) for r in TOPOLOGY.routes} == set(ROUTES)
    data = TOPOLOGY.bucket("data")
    assert set(UPLOAD_TYPES) == set(data.upload_types) and data.max_upload_bytes == MAX_UPLOAD_BYTES


def test_request_id_travels_to_the_service_and_back(api: httpx.Client) -> None:
    rid = f"test-{uuid.uuid4().hex}"
    answer = api.get(f"/api/products/{uuid.uuid4().hex}", headers={"X-Request-ID": rid})
    assert answer.status_code == 404
    assert answer.headers["x-request-id"] == rid
    assert answer.json()["request_id"] == rid  # set by the products service from the forwarded header
    assert len(api.get("/health").headers["x-request-id"]) == 32


def test_an_invalid_token_is_refused_at_the_edge(api: httpx.Client) -> None:
    answer = api.get("/api/products", headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"


def test_schema_is_a_valid_openapi_document_of_the_public_api(api: httpx.Client) -> None:
    answer = api.get("/schema")
    assert answer.status_code == 200
    document = answer.json()
    validate(document)
    paths = set(document["paths"])
    assert {"/api/users", "/api/auth/login", "/api/auth/logout", "/api/users/me", "/api/users/{user_id}",
            "/api/products",
            "/api/products/{product_id}", "/api/orders", "/api/orders/{order_id}", "/api/orders/{order_id}/cancel",
            "/api/notifications", "/api/analytics/windows", "/api/analytics/summary",
            "/api/analytics/top-products", "/api/analytics/flink/top-users", "/api/s3/presigned-url",
            "/api/s3/file-status"} == paths
    assert document["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"
    assert document["paths"]["/api/orders"]["post"]["security"] == [{"BearerAuth": []}]


def test_storefront_is_served_with_a_strict_csp(api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert api.get("/assets/../settings.py").status_code == 404
    assert api.get("/assets/%2e%2e/settings.py").status_code == 404
    assert api.get(f"/assets/{uuid.uuid4().hex}.js").status_code == 404


def test_storefront_assets_have_their_content_types(api: httpx.Client) -> None:
    from services.gateway.storefront import ROOT

    assets = sorted((ROOT / "assets").glob("*")) if (ROOT / "assets").is_dir() else []
    expected = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    checked = 0
    for path in assets:
        if path.suffix in expected and path.is_file():
            answer = api.get(f"/assets/{path.name}")
            assert answer.status_code == 200 and answer.content == path.read_bytes()
            assert answer.headers["content-type"].startswith(expected[path.suffix])
            checked += 1
    if not assets:
        pytest.skip("the storefront has no assets yet")
    assert checked > 0


def test_cors_answers_only_configured_origins(api: httpx.Client, platform: LocalPlatform) -> None:
    origins = [o for o in platform.service_env("api-gateway").get("CORS_ORIGINS", "").split(",") if o]
    evil = api.options("/api/products", headers={"Origin": "https://evil.example",
                                                 "Access-Control-Request-Method": "GET"})
    assert evil.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")
    for origin in origins:
        ok = api.options("/api/products", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert ok.headers.get("access-control-allow-origin") == origin


def test_a_large_body_is_refused(api: httpx.Client, user: Account) -> None:
    answer = api.post("/api/orders", headers=user.headers, content=b"x" * (1024 * 1024 + 1))
    assert answer.status_code == 413


# -- uploads ------------------------------------------------------------------------------------

def test_presigned_upload_and_its_status(
    api: httpx.Client, new_user: Callable[[], Account], platform: LocalPlatform
) -> None:
    alice, bob = new_user(), new_user()
    assert api.post("/api/s3/presigned-url", json={"file_name": "a.txt", "file_type": "text/plain"}).status_code == 401
    refused = api.post("/api/s3/presigned-url", headers=alice.headers,
                       json={"file_name": "x.exe", "file_type": "application/x-msdownload"})
    assert refused.status_code == 422
    answer = api.post("/api/s3/presigned-url", headers=alice.headers,
                      json={"file_name": "../../My Notes.txt", "file_type": "text/plain"})
    assert answer.status_code == 200, answer.text
    upload = answer.json()
    key: str = upload["key"]
    assert key.startswith(f"uploads/{alice.id}/") and key.endswith("-My_Notes.txt") and ".." not in key
    assert upload["max_bytes"] == 10 * 1024 * 1024

    status = api.get("/api/s3/file-status", params={"key": key}, headers=alice.headers)
    assert status.status_code == 404  # not uploaded yet

    posted = httpx.post(upload["url"], data=upload["fields"], files={"file": ("notes.txt", b"hello world\n")})
    assert posted.status_code in (200, 204), posted.text
    status = api.get("/api/s3/file-status", params={"key": key}, headers=alice.headers).json()
    assert status["key"] == key and status["exists"] is True
    assert api.get("/api/s3/file-status", params={"key": key}, headers=bob.headers).status_code == 404
    other = f"uploads/{bob.id}/../{alice.id}/x"
    assert api.get("/api/s3/file-status", params={"key": other}, headers=bob.headers).status_code == 404

    # the processed result (written by the file processor) is reported once it exists
    env = platform.service_env("api-gateway")
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name=env["AWS_REGION"],
                      aws_access_key_id="local", aws_secret_access_key="local")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = api.get("/api/s3/file-status", params={"key": key}, headers=alice.headers).json()
        if status["processed"]:
            break
        time.sleep(0.5)
    else:  # no processor running: write the result the way it would
        result = {"status": "ok", "bytes": 12, "lines": 1, "words": 2, "sha256": "0" * 64,
                  "processed_at": "2026-01-01T00:00:00Z"}
        s3.put_object(Bucket=env["BUCKET_DATA"], Key=f"processed/{key[len('uploads/'):]}.json",
                      Body=json.dumps(result).encode())
        status = api.get("/api/s3/file-status", params={"key": key}, headers=alice.headers).json()
    assert status["processed"] is True and status["result"]["status"] in ("ok", "rejected")


def test_the_upload_policy_limits_key_type_and_size(api: httpx.Client, user: Account) -> None:
    """S3 enforces the POST policy (the local emulator does not check sizes), so check what we sign."""
    import base64

    upload = api.post("/api/s3/presigned-url", headers=user.headers,
                      json={"file_name": "big.csv", "file_type": "text/csv"}).json()
    policy = json.loads(base64.b64decode(upload["fields"]["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 10 * 1024 * 1024] in conditions
    assert {"Content-Type": "text/csv"} in conditions and {"key": upload["key"]} in conditions
    assert policy["expiration"].endswith("Z")


# -- upstream failures (an in-process gateway aimed at a dead port and at a silent server) ----------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def _silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_unreachable_and_slow_upstreams_get_clean_answers(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]]
) -> None:
    env = aws_environ("api-gateway")
    async with _silent_server() as silent_port:
        upstreams = dict(Settings.from_env(env).upstreams)
        upstreams["users"] = f"http://127.0.0.1:{_free_port()}"
        upstreams["products"] = f"http://127.0.0.1:{silent_port}"
        settings = dataclasses.replace(Settings.from_env(env), upstreams=upstreams, read_timeout_s=0.5)
        async with AsyncTestClient(app=create_app(settings)) as client:
            started = time.monotonic()
            down = await client.get("/api/users/me")
            assert down.status_code == 503 and time.monotonic() - started < 3
            assert down.json()["title"] == "Service Unavailable" and "127.0.0.1" not in down.text
            started = time.monotonic()
            slow = await client.get("/api/products")
            assert slow.status_code == 504 and time.monotonic() - started < 3
            ready = await client.get("/ready")
            assert ready.status_code == 503
            assert {"upstream:users", "upstream:products"} <= set(ready.json()["failed"])
            fine = await client.get("/api/analytics/summary")
            assert fine.status_code == 200
            metrics = (await client.get("/metrics")).text
            assert 'route="/api/users",status="503"' in metrics and 'route="/api/products",status="504"' in metrics


async def test_cors_for_a_configured_origin(aws_environ: Callable[[str], dict[str, str]]) -> None:
    settings = dataclasses.replace(Settings.from_env(aws_environ("api-gateway")), cors_origins=("http://shop.test",))
    async with AsyncTestClient(app=create_app(settings)) as client:
        ok = await client.options("/api/products", headers={"Origin": "http://shop.test",
                                                            "Access-Control-Request-Method": "GET"})
        assert ok.headers.get("access-control-allow-origin") == "http://shop.test"
        evil = await client.options("/api/products", headers={"Origin": "http://evil.test",
                                                              "Access-Control-Request-Method": "GET"})
        assert evil.headers.get("access-control-allow-origin") is None
        simple = await client.get("/health", headers={"Origin": "http://shop.test"})
        assert simple.headers.get("access-control-allow-origin") == "http://shop.test"


