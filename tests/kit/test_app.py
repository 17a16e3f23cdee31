"""The kit's app assembly: problem details, request ids, health/ready, metrics — on a tiny app."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from typing import Any

import msgspec
import pytest
from litestar import Request, get, post
from litestar.testing import TestClient

from services.kit.app import build_app
from services.kit.auth import Caller, Callers, issue_token
from services.kit.errors import Conflict, TooManyRequests
from services.kit.health import run_checks
from services.kit.heap import YOUNG_THRESHOLD
from services.kit.logging import JsonFormatter, request_id
from services.kit.metrics import Metrics


class Thing(msgspec.Struct):
    name: str
    size: int


@post("/things")
async def create_thing(data: Thing) -> Thing:
    return data


@get("/conflict")
async def conflict() -> None:
    raise Conflict("already there", extra={"thing": "x"})


@get("/throttled")
async def throttled() -> None:
    raise TooManyRequests("slow down", retry_after_s=7)


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals: password=hunter2")


@get("/rid")
async def rid() -> dict[str, str]:
    return {"rid": request_id()}


@get("/items/{item_id:str}")
async def item(item_id: str) -> dict[str, str]:
    return {"id": item_id}


async def ok() -> None:
    return None


async def down() -> None:
    raise ConnectionRefusedError("db at 10.0.0.1 refused")


async def hangs() -> None:
    await asyncio.sleep(10)


def _client(checks: dict[str, object] | None = None, max_body_bytes: int = 1024) -> TestClient:  # type: ignore[type-arg]
    app = build_app(service="kit-test", log_level="INFO", handlers=[create_thing, conflict, throttled, boom, rid, item],
                    checks=checks or {"ok": ok}, metrics=Metrics("kit-test"),  # type: ignore[arg-type]
                    max_body_bytes=max_body_bytes)
    return TestClient(app=app, raise_server_exceptions=False)


def test_a_body_past_the_limit_is_a_413_problem() -> None:
    with _client(max_body_bytes=64) as client:
        assert client.post("/things", json={"name": "x", "size": 1}).status_code == 201
        answer = client.post("/things", json={"name": "x" * 100, "size": 1})
        assert answer.status_code == 413 and answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["title"] == "Content Too Large"


async def _raw_get(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """A request with exactly these header lines (test clients merge repeated headers)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {}}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_more_than_one_authorization_header_is_a_400() -> None:
    callers = Callers("a-test-secret-that-is-long-enough-for-hs256")

    @get("/whoami")
    async def whoami(request: Request[Any, Any, Any]) -> str:
        return callers.of(request).user_id

    app = build_app(service="kit-test", log_level="INFO", handlers=[whoami], checks={}, metrics=Metrics("kit-test"))
    token = b"Bearer " + issue_token(callers.verifier.secret, Caller(user_id="u1", email="u@x.org", role="user"),
                                     60).encode()
    with TestClient(app=app):  # started
        assert asyncio.run(_raw_get(app, "/whoami", [(b"authorization", token)])) == (200, b"u1")
        status, body = asyncio.run(_raw_get(app, "/whoami", [(b"authorization", token), (b"authorization", token)]))
    assert status == 400 and json.loads(body)["detail"] == "more than one Authorization header"


def test_validation_errors_are_problem_details() -> None:
    with _client() as client:
        answer = client.post("/things", json={"name": "x", "size": "big"})
        assert answer.status_code == 400
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["status"] == 400 and body["errors"] and body["request_id"]


def test_service_errors_map_to_their_status() -> None:
    with _client() as client:
        answer = client.get("/conflict")
        assert answer.status_code == 409
        assert answer.json() == {"type": "about:blank", "title": "Conflict", "status": 409,
                                 "detail": "already there", "request_id": answer.headers["x-request-id"],
                                 "thing": "x"}
        refused = client.get("/throttled")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "7"
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["title"] == "Too Many Requests"


def test_unexpected_errors_hide_internals(caplog: pytest.LogCaptureFixture) -> None:
    with _client() as client:
        answer = client.get("/boom")
        assert answer.status_code == 500
        assert "hunter2" not in answer.text and "RuntimeError" not in answer.text
    assert answer.json()["detail"] == "the server could not answer"


def test_unknown_route_is_a_json_404() -> None:
    with _client() as client:
        answer = client.get("/nowhere")
        assert answer.status_code == 404 and answer.json()["status"] == 404


def test_request_id_is_taken_or_made() -> None:
    with _client() as client:
        given = client.get("/rid", headers={"X-Request-ID": "abc-123"})
        assert given.json() == {"rid": "abc-123"} and given.headers["x-request-id"] == "abc-123"
        hostile = client.get("/rid", headers={"X-Request-ID": "a b\"<script>"})
        assert hostile.json()["rid"] != "a b\"<script>" and len(hostile.json()["rid"]) == 32
        made = client.get("/rid")
        assert len(made.headers["x-request-id"]) == 32


def test_start_up_heap_is_frozen_once_the_app_has_started() -> None:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    made_at_start_up: list[object] = []

    async def keep() -> None:  # a lifespan-time object: must be frozen, not walked by every full collection
        made_at_start_up.append(object())
        made_at_start_up.append({"cache": []})

    app = build_app(service="kit-test", log_level="INFO", handlers=[rid], checks={"ok": ok},
                    metrics=Metrics("kit-test"))
    app.on_startup.insert(0, keep)
    assert gc.get_freeze_count() == 0
    try:
        with TestClient(app=app) as client:
            assert client.get("/rid").status_code == 200
            frozen = gc.get_freeze_count()
            assert frozen > 10_000  # the framework's start-up graph, not a handful of objects
            lifespan_dict = made_at_start_up[1]
            assert gc.is_tracked(lifespan_dict)
            assert all(o is not lifespan_dict for o in gc.get_objects())  # collections no longer walk it
            assert gc.get_threshold() == (YOUNG_THRESHOLD, *thresholds[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


def test_ready_names_failed_checks_quickly() -> None:
    with _client({"ok": ok, "db": down, "slow": hangs}) as client:
        assert client.get("/health").json() == {"status": "ok", "service": "kit-test"}
        answer = client.get("/ready")
        assert answer.status_code == 503
        body = answer.json()
        assert body["failed"] == ["db", "slow"]
        assert body["checks"] == {"ok": "ok", "db": "error: ConnectionRefusedError", "slow": "timeout"}
        assert "10.0.0.1" not in answer.text


def test_run_checks_are_concurrent() -> None:
    async def nap() -> None:
        await asyncio.sleep(0.2)

    loop = asyncio.new_event_loop()
    try:
        started = loop.time()
        results = loop.run_until_complete(run_checks({"a": nap, "b": nap, "c": nap}, 1.0))
        assert results == {"a": "ok", "b": "ok", "c": "ok"} and loop.time() - started < 0.5
    finally:
        loop.close()


def test_metrics_count_by_route_template() -> None:
    with _client() as client:
        for n in range(3):
            client.get(f"/items/{n}")
        client.get("/conflict")
        text = client.get("/metrics").text
    assert 'http_requests_total{method="GET",route="/items/{item_id}",status="200"} 3.0' in text
    assert 'http_requests_total{method="GET",route="/conflict",status="409"} 1.0' in text
    assert 'http_request_duration_seconds_count{method="GET",route="/items/{item_id}"} 3.0' in text


def test_business_counters_live_in_the_service_registry() -> None:
    metrics = Metrics("x")
    counter = metrics.counter("orders_created_total", "orders", ["kind"])
    counter.labels("a").inc(2)
    assert b'orders_created_total{kind="a"} 2.0' in metrics.exposition()
    assert b"orders_created_total" not in Metrics("y").exposition()


def test_json_log_lines() -> None:
    record = logging.LogRecord("svc", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    line = json.loads(JsonFormatter("orders").format(record))
    assert line["msg"] == "hello world" and line["level"] == "warning" and line["service"] == "orders"
    assert line["ts"].endswith("Z")
