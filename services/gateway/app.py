"""The api-gateway app: proxies per route prefix, /schema, the storefront, uploads, checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, asgi, get
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from services.gateway.edge import Edge
from services.gateway.proxy import Proxy, PublicCache, public_cache
from services.gateway.schema import SchemaSource
from services.gateway.settings import MAX_UPLOAD_BYTES, PUBLIC_QUERY, ROUTES, UPLOAD_TYPES, Settings
from services.gateway.storefront import storefront_handlers
from services.gateway.uploads import Uploads, uploads_controller
from services.kit import aws
from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.health import Check
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.kit.upstream import Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable


def _mount(prefix: str, proxy: Proxy) -> ASGIRouteHandler:
    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        await proxy(scope, receive, send)

    forward.__name__ = f"proxy_{prefix.strip('/').replace('/', '_')}"
    return asgi(prefix, is_mount=True, copy_scope=False)(forward)


def _schema_handlers(source: SchemaSource) -> list[HTTPRouteHandler]:
    async def serve(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        own = request.app.openapi_schema.to_schema()
        document, complete = await source.document(own)
        return Response(document, media_type="application/vnd.oai.openapi+json",
                        headers={} if complete else {"Cache-Control": "no-store"})

    return [get("/schema", include_in_schema=False, name="schema")(serve),
            get("/schema/openapi.json", include_in_schema=False, name="schema-json")(serve)]


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    uploads = Uploads(aws.client("s3", settings.aws.region), settings.bucket_data, UPLOAD_TYPES,
                      MAX_UPLOAD_BYTES, settings.presign_expiry_s)
    prefixes: dict[str, tuple[str, ...]] = {}
    for prefix, service in ROUTES:
        prefixes[service] = (*prefixes.get(service, ()), prefix)
    revocations = Revocations.of(settings.service)
    upstreams = {name: Upstream(url, settings.connect_timeout_s, settings.read_timeout_s)
                 for name, url in settings.upstreams.items()}
    schema = SchemaSource(upstreams, prefixes)
    callers = Callers(settings.service.jwt_secret, revocations)
    caches: dict[str, PublicCache] = {
        service: public_cache(settings.public_cache_ttl_s, settings.public_cache_bytes) for service in PUBLIC_QUERY}
    proxies = [(prefix, Proxy(upstreams[service], callers.verifier, settings.max_body_bytes, caches.get(service),
                              PUBLIC_QUERY.get(service, frozenset())))
               for prefix, service in ROUTES]
    mounts = [_mount(prefix, proxy) for prefix, proxy in proxies]

    @asynccontextmanager
    async def upstream_pool(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            for upstream in upstreams.values():
                await upstream.close()

    def upstream_check(upstream: Upstream) -> Check:
        async def check() -> None:
            try:
                answer = await upstream.request("GET", "/health", [], b"", timeout_s=1.5)
            except (UpstreamUnavailable, UpstreamTimeout, UpstreamBroken) as exc:
                raise ConnectionError(f"{type(exc).__name__}") from None
            if answer.status != 200:
                raise ConnectionError(f"health answered {answer.status}")

        return check

    checks: dict[str, Check] = {f"upstream:{name}": upstream_check(upstream) for name, upstream in upstreams.items()}
    checks["s3"] = uploads.check

    app = build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[*mounts, uploads_controller(uploads, callers), *_schema_handlers(schema),
                  *storefront_handlers(upload_origin=uploads.origin())],
        checks=checks,
        metrics=metrics,
        lifespan=[upstream_pool],
        cors_origins=settings.cors_origins,
        openapi=openapi_config("api-gateway", path="/_openapi"),
        max_body_bytes=settings.own_body_bytes,
        revocations=revocations,
    )
    return Edge(app, proxies, metrics)
