"""The api-gateway app: proxies per route prefix, /schema, the storefront, uploads, checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from botocore.exceptions import BotoCoreError
from litestar import Litestar, Request, Response, asgi, get
from litestar.di import Provide
from litestar.handlers import ASGIRouteHandler, HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from services.gateway.edge import Edge
from services.gateway.proxy import Proxy, PublicCache, upstream_client
from services.gateway.schema import SchemaSource
from services.gateway.settings import MAX_UPLOAD_BYTES, ROUTES, UPLOAD_TYPES, Settings
from services.gateway.storefront import storefront_handlers
from services.gateway.uploads import Uploads, UploadsController
from services.gateway.upstream import Upstream
from services.kit import aws
from services.kit.app import build_app, openapi_config
from services.kit.auth import TokenVerifier, caller_provider
from services.kit.health import Check
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations


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
    pool: dict[str, aiohttp.ClientSession] = {}

    def session() -> aiohttp.ClientSession:
        return pool["session"]

    uploads = Uploads(aws.client("s3", settings.aws.region), settings.bucket_data, UPLOAD_TYPES,
                      MAX_UPLOAD_BYTES, settings.presign_expiry_s)
    prefixes: dict[str, tuple[str, ...]] = {}
    for prefix, service in ROUTES:
        prefixes[service] = (*prefixes.get(service, ()), prefix)
    schema = SchemaSource(session, settings.upstreams, prefixes)
    revocations = Revocations.of(settings.service)
    tokens = TokenVerifier(settings.service.jwt_secret, revocations=revocations)
    catalogue_cache = PublicCache(settings.public_cache_ttl_s)
    upstreams = {name: Upstream(url, settings.connect_timeout_s, settings.read_timeout_s)
                 for name, url in settings.upstreams.items()}
    proxies = [(prefix, Proxy(upstreams[service], tokens, settings.max_body_bytes,
                              catalogue_cache if service == "products" else None))
               for prefix, service in ROUTES]
    mounts = [_mount(prefix, proxy) for prefix, proxy in proxies]

    @asynccontextmanager
    async def upstream_pool(_: Litestar) -> AsyncIterator[None]:
        pool["session"] = upstream_client(settings.connect_timeout_s, settings.read_timeout_s)
        try:
            yield
        finally:
            await pool.pop("session").close()
            for upstream in upstreams.values():
                await upstream.close()

    def upstream_check(url: str) -> Check:
        async def check() -> None:
            async with session().get(f"{url}/health", timeout=aiohttp.ClientTimeout(total=1.5)) as answer:
                answer.raise_for_status()

        return check

    checks: dict[str, Check] = {f"upstream:{name}": upstream_check(url) for name, url in settings.upstreams.items()}
    checks["s3"] = uploads.check

    def provide_uploads() -> Uploads:
        return uploads

    app = build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[*mounts, UploadsController, *_schema_handlers(schema),
                  *storefront_handlers(upload_origin=uploads.origin())],
        checks=checks,
        metrics=metrics,
        lifespan=[upstream_pool],
        dependencies={
            "uploads": Provide(provide_uploads, sync_to_thread=False),
            "caller": Provide(caller_provider(settings.service.jwt_secret, revocations), sync_to_thread=False),
        },
        cors_origins=settings.cors_origins,
        openapi=openapi_config("api-gateway", path="/_openapi"),
        unavailable_on=(BotoCoreError,),
        revocations=revocations,
    )
    return Edge(app, proxies, metrics)
