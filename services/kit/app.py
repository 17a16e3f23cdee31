"""Assemble a Litestar app the same way for every service (explicit arguments, no registration)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ControllerRouterHandler

from services.kit.errors import exception_handlers
from services.kit.health import Check, health_handlers
from services.kit.heap import freeze_start_up_heap
from services.kit.logging import configure_logging, request_id_middleware
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.kit.settings import API_BODY_BYTES

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[Any]]

BEARER = "BearerAuth"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]


def openapi_config(title: str, version: str = "1.0.0", path: str = "/schema") -> OpenAPIConfig:
    return OpenAPIConfig(
        title=title, version=version, path=path, render_plugins=[],
        components=Components(security_schemes={
            BEARER: SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
        }),
    )


def build_app(
    *,
    service: str,
    log_level: str,
    handlers: Sequence[ControllerRouterHandler],
    checks: Mapping[str, Check],
    metrics: Metrics,
    lifespan: Sequence[Lifespan] = (),
    cors_origins: Sequence[str] = (),
    openapi: OpenAPIConfig | None = None,
    unavailable_on: Sequence[type[Exception]] = (),
    max_body_bytes: int = API_BODY_BYTES,
    revocations: Revocations | None = None,
) -> Litestar:
    """``revocations``: the list the app's token checks consult, kept fresh while the app runs."""
    configure_logging(service, log_level)
    return Litestar(
        route_handlers=[*handlers, *health_handlers(service, checks), metrics.route_handler()],
        middleware=[request_id_middleware, metrics.middleware],
        exception_handlers=exception_handlers(tuple(unavailable_on)),
        lifespan=[*lifespan, *([revocations.lifespan] if revocations is not None else [])],
        on_startup=[freeze_start_up_heap],  # after the lifespans: pools and clients exist by then
        cors_config=CORSConfig(allow_origins=list(cors_origins), allow_credentials=False)
        if cors_origins else None,
        openapi_config=openapi or openapi_config(service),
        request_max_body_size=max_body_bytes,  # larger: 413, a problem answer
        debug=False,
        logging_config=None,
    )
