"""Prometheus metrics: one registry per app, request counts and latency per route template."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

from services.kit.errors import NotFound

PROXIED = frozenset({b"x-forwarded-for", b"forwarded"})
"""Headers a proxy or load balancer adds (an AWS ALB appends ``X-Forwarded-For`` to every request)."""

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _mount_path(scope: Scope) -> str:
    """The route of a mounted ASGI handler (its prefix); "unmatched" when nothing was routed."""
    handler = scope.get("route_handler")
    paths = getattr(handler, "paths", None)
    return min(paths) if paths else "unmatched"


class Metrics:
    """The metrics of one service process."""

    def __init__(self, service: str) -> None:
        self.service = service
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created gauges
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests served", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency", ["method", "route"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A business counter registered with this service's registry."""
        return Counter(name, documentation, list(labels), registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge registered with this service's registry."""
        return Gauge(name, documentation, list(labels), registry=self.registry)

    def histogram(self, name: str, documentation: str, buckets: Sequence[float]) -> Histogram:
        """A histogram (no labels) registered with this service's registry."""
        return Histogram(name, documentation, buckets=tuple(buckets), registry=self.registry)

    def consumer_lag(self) -> Gauge:
        """``kafka_consumer_lag{group, topic, partition}``: what a consumer group has yet to read."""
        return self.gauge("kafka_consumer_lag", "messages behind the end of the partition",
                          ["group", "topic", "partition"])

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def route_handler(self) -> HTTPRouteHandler:
        """``GET /metrics`` in the Prometheus text format, for a direct scrape only.

        Prometheus scrapes each process at its own address; a request that came through a proxy
        (``PROXIED`` headers) is a 404, whatever spelling of the path (``//metrics``,
        ``/%6detrics``) got it past the load balancer's rule that keeps ``/metrics`` private."""
        metrics = self

        @get("/metrics", include_in_schema=False, sync_to_thread=False)
        def serve_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
            if any(name in PROXIED for name, _ in request.scope["headers"]):
                raise NotFound("metrics are served to a direct scrape only")
            return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

        return serve_metrics

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Count and time every HTTP request by method, route template and status."""
        requests, latency = self.requests, self.latency
        # the series of each (method, route, status), looked up once: labels() costs more than
        # counting and timing together (measured: 9.6 -> 4.2 us per request)
        series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500

            async def send_status(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, send_status)
            finally:
                route = scope.get("path_template") or _mount_path(scope)
                method = scope.get("method", "GET")
                key = (method, route, status)
                found = series.get(key)
                if found is None:
                    found = series[key] = (requests.labels(method, route, str(status)), latency.labels(method, route))
                found[0].inc()
                found[1].observe(time.perf_counter() - started)

        return middleware
