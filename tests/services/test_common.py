"""What every service offers: /health, /ready with real checks, /metrics with business counters."""

from __future__ import annotations

import httpx
import pytest

from blueprint.topology import TOPOLOGY, Service
from ecomctl.local.platform import LocalPlatform

pytestmark = pytest.mark.platform

EXPECTED_CHECKS = {
    "api-gateway": {"s3", "upstream:users", "upstream:products", "upstream:orders", "upstream:notifications",
                    "upstream:analytics"},
    "users": {"mysql"},
    "products": {"dynamodb"},
    "orders": {"mysql", "dynamodb", "kafka"},
    "notifications": {"dynamodb", "sns", "kafka"},
    "analytics": {"dynamodb", "kafka"},
}
BUSINESS_COUNTERS = {
    "orders": ["orders_created_total", "orders_revenue_usd_total", "orders_cancelled_total",
               "outbox_published_total"],
    "notifications": ["notifications_sent_total"],
    "analytics": ["analytics_results_stored_total"],
}


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_health(platform: LocalPlatform, service: Service) -> None:
    answer = httpx.get(f"{platform.service_url(service.name)}/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "service": service.name}


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_ready_checks_every_dependency(platform: LocalPlatform, service: Service) -> None:
    answer = httpx.get(f"{platform.service_url(service.name)}/ready", timeout=10)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok" and set(body["checks"]) == EXPECTED_CHECKS[service.name]
    assert set(body["checks"].values()) == {"ok"}


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_metrics(platform: LocalPlatform, service: Service) -> None:
    base = platform.service_url(service.name)
    httpx.get(f"{base}/health")
    answer = httpx.get(f"{base}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'http_requests_total{method="GET",route="/health",status="200"}' in text
    assert 'http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health"}' in text
    for counter in BUSINESS_COUNTERS.get(service.name, []):
        assert f"# TYPE {counter} counter" in text or f"# TYPE {counter.removesuffix('_total')} counter" in text


def test_gateway_health_is_public(platform: LocalPlatform) -> None:
    answer = httpx.get(f"{platform.gateway_url}/health")
    assert answer.json()["service"] == "api-gateway"
