"""The gateway's front door: proxied ``/api/...`` requests skip the framework.

A request under a route prefix goes straight to its ``Proxy`` (with the kit's request-id and
metrics middleware around it), which removes the framework's routing, dependency and response
machinery from the hottest path. Everything else (``/schema``, ``/api/s3``, the storefront,
health and metrics) and every cross-origin request (so CORS is answered in one place) goes
through the Litestar app.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.kit.logging import request_id_middleware
from services.kit.metrics import Metrics

ORIGIN = b"origin"


class Edge:
    def __init__(self, app: ASGIApp, proxies: Sequence[tuple[str, ASGIApp]], metrics: Metrics) -> None:
        self.app = app
        self.routes = [(prefix, prefix + "/", request_id_middleware(metrics.middleware(proxy)))
                       for prefix, proxy in proxies]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            path = scope["path"]
            for prefix, under, handler in self.routes:
                if path == prefix or path.startswith(under):
                    if any(name == ORIGIN for name, _ in scope["headers"]):
                        break  # cross-origin: let the app's CORS middleware answer
                    scope["path_template"] = prefix
                    await handler(scope, receive, send)
                    return
        await self.app(scope, receive, send)
