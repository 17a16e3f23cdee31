"""Analytics: the consumer stores stream results (last write wins), the API answers from them.

Runs the analytics app in-process against a private table and topic on the platform's DynamoDB
and Kafka, so the shared windows of the running stack are not touched.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from litestar.testing import AsyncTestClient

from ecomctl.local.platform import LocalPlatform
from services.analytics.app import create_app
from services.analytics.settings import Settings
from services.kit.auth import Caller, issue_token

pytestmark = pytest.mark.platform


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(name="analytics")
async def fx_analytics(
    platform: LocalPlatform, aws_environ: Callable[[str], dict[str, str]]
) -> AsyncIterator[tuple[AsyncTestClient[Any], Settings]]:
    env = aws_environ("analytics")
    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(
        Settings.from_env(env), table_analytics=f"analytics-test-{suffix}",
        topic_analytics_results=f"analytics-results-test-{suffix}", consumer_group=f"analytics-test-{suffix}",
    )
    dynamodb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name=settings.aws.region,
                            aws_access_key_id="local", aws_secret_access_key="local")
    dynamodb.create_table(
        TableName=settings.table_analytics, BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(settings.topic_analytics_results, 1, 1)])
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            yield client, settings
    finally:
        await admin.delete_topics([settings.topic_analytics_results])
        await admin.close()
        dynamodb.delete_table(TableName=settings.table_analytics)


async def _produce(bootstrap: str, topic: str, messages: list[tuple[str, dict[str, Any] | bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            raw = value if isinstance(value, bytes) else json.dumps(value).encode()
            await producer.send_and_wait(topic, raw, key=key.encode())
    finally:
        await producer.stop()


async def _until(client: AsyncTestClient[Any], path: str, ready: Any, timeout_s: float = 30, **kw: Any) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        body = (await client.get(path, **kw)).json()
        if ready(body) or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.3)


async def test_results_are_stored_and_served(
    analytics: tuple[AsyncTestClient[Any], Settings], platform: LocalPlatform
) -> None:
    client, settings = analytics
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    w1, w2 = now - timedelta(minutes=2), now - timedelta(minutes=1)
    window = {"kind": "window", "window_start": _z(w1), "window_end": _z(w1 + timedelta(minutes=1)),
              "orders": 3, "units": 5, "revenue": "30.00", "unique_users": 2, "cancelled_orders": 0}
    messages: list[tuple[str, dict[str, Any] | bytes]] = [
        (f"window|{_z(w1)}", window),
        (f"window|{_z(w1)}", {**window, "orders": 4, "units": 6, "revenue": "35.5", "extra": "ignored"}),
        (f"window|{_z(w2)}", {**window, "window_start": _z(w2), "window_end": _z(w2 + timedelta(minutes=1)),
                             "orders": 1, "units": 1, "revenue": "2.00", "unique_users": 1, "cancelled_orders": 1}),
        ("bad", b"not json"),
        ("bad", {"kind": "unknown", "window_start": _z(w1)}),
        (f"product|{_z(w1)}|p1", {"kind": "product", "window_start": _z(w1),
                                  "window_end": _z(w1 + timedelta(minutes=1)), "product_id": "p1", "units": 4,
                                  "revenue": "20.00"}),
        (f"product|{_z(w1)}|p2", {"kind": "product", "window_start": _z(w1),
                                  "window_end": _z(w1 + timedelta(minutes=1)), "product_id": "p2", "units": 2,
                                  "revenue": "15.50"}),
        (f"product|{_z(w2)}|p2", {"kind": "product", "window_start": _z(w2),
                                  "window_end": _z(w2 + timedelta(minutes=1)), "product_id": "p2", "units": 3,
                                  "revenue": "2.00"}),
        (f"user|{_z(w1)}|u1", {"kind": "user", "window_start": _z(w1), "window_end": _z(w1 + timedelta(minutes=1)),
                               "user_id": "u1", "orders": 4, "revenue": "35.50"}),
    ]
    await _produce(platform.kafka_bootstrap, settings.topic_analytics_results, messages)

    windows = await _until(client, "/api/analytics/windows", lambda b: len(b["items"]) == 2 and
                           b["items"][1]["orders"] == 4)
    assert [w["window_start"] for w in windows["items"]] == [_z(w2), _z(w1)]  # newest first
    assert windows["items"][1] == {"window_start": _z(w1), "window_end": _z(w1 + timedelta(minutes=1)),
                                   "orders": 4, "units": 6, "revenue": "35.50", "unique_users": 2,
                                   "cancelled_orders": 0}
    paged = (await client.get("/api/analytics/windows", params={"limit": 1})).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    rest = (await client.get("/api/analytics/windows", params={"cursor": paged["next_cursor"]})).json()
    assert [w["window_start"] for w in rest["items"]] == [_z(w1)]

    top = await _until(client, "/api/analytics/top-products", lambda b: len(b["items"]) == 2 and
                       b["items"][0]["units"] == 5)
    assert top["items"] == [{"product_id": "p2", "units": 5, "revenue": "17.50"},
                            {"product_id": "p1", "units": 4, "revenue": "20.00"}]
    first = (await client.get("/api/analytics/top-products", params={"limit": 1})).json()["items"]
    assert [p["product_id"] for p in first] == ["p2"]

    summary = (await client.get("/api/analytics/summary")).json()
    assert summary["recent"] == {"windows": 2, "orders": 5, "units": 7, "revenue": "37.50", "cancelled_orders": 1}
    assert summary["latest"]["window_start"] == _z(w2) and summary["status"] == "ok"
    assert 0 <= summary["lag_seconds"] < 120

    user_token = issue_token(settings.service.jwt_secret, Caller("u9", "u9@example.com", "user"), 60)
    admin_token = issue_token(settings.service.jwt_secret, Caller("a1", "a@example.com", "admin"), 60)
    assert (await client.get("/api/analytics/flink/top-users")).status_code == 401
    denied = await client.get("/api/analytics/flink/top-users", headers={"Authorization": f"Bearer {user_token}"})
    assert denied.status_code == 403
    users = await _until(client, "/api/analytics/flink/top-users", lambda b: len(b.get("items", [])) == 1,
                         headers={"Authorization": f"Bearer {admin_token}"})
    assert users["items"] == [{"user_id": "u1", "orders": 4, "revenue": "35.50"}]

    metrics = (await client.get("/metrics")).text
    assert 'analytics_results_skipped_total 2.0' in metrics


async def test_empty_summary(analytics: tuple[AsyncTestClient[Any], Settings]) -> None:
    client, _ = analytics
    summary = (await client.get("/api/analytics/summary")).json()
    assert summary["status"] == "empty" and summary["latest"] is None and summary["lag_seconds"] is None
    assert (await client.get("/api/analytics/windows", params={"limit": 0})).status_code == 400


async def test_public_windows_through_the_gateway(platform: LocalPlatform) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=platform.gateway_url) as api:
        answer = await api.get("/api/analytics/windows")
        assert answer.status_code == 200 and set(answer.json()) == {"items", "next_cursor"}
        summary = await api.get("/api/analytics/summary")
        assert summary.status_code == 200 and summary.json()["window_seconds"] == 60
