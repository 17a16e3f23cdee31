"""The orders service's front door: a well-formed ``POST /api/orders`` skips the framework.

Placing an order is the service's hot route, and Litestar's routing, signature model and
response machinery cost more CPU per order than the handler. In front of the app, this reads
the body, checks it against the same ``OrderCreate`` schema, verifies the bearer token and calls
the same ``OrderService.create``, inside the kit's request-id and metrics middleware (same
``X-Request-ID``, same ``http_requests_total`` and latency series for the route). Anything it
does not take as it is (a body or an ``Idempotency-Key`` that does not validate, a missing or
bad token, any other route) goes to the app with the body replayed, so the app stays the one
place that words 4xx answers about the input. Errors raised while placing the order get the
kit's problem details, as from the app's exception handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from services.kit.asgi import read_body, replay, respond_error, respond_json
from services.kit.auth import Caller, Callers, authorization_of
from services.kit.errors import ServiceError
from services.kit.logging import request_id_middleware
from services.kit.metrics import Metrics
from services.orders.schemas import MAX_IDEMPOTENCY_KEY, OrderCreate
from services.orders.service import OrderService

ROUTE = "/api/orders"
MAX_BODY_BYTES = 64 * 1024  # an order of MAX_LINES lines is a few KiB; a larger body goes to the app
IDEMPOTENCY_KEY = b"idempotency-key"
_decode = msgspec.json.Decoder(OrderCreate).decode
_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True)
class Placement:
    """A request to place an order that passed every check the app would make on its input."""

    caller: Caller
    data: OrderCreate
    idempotency_key: str | None


class OrderEdge:
    def __init__(self, app: ASGIApp, orders: Callable[[], OrderService], callers: Callers, metrics: Metrics,
                 unavailable_on: tuple[type[Exception], ...]) -> None:
        self.app = app
        self.orders = orders
        self.callers = callers
        self.metrics = metrics
        self.unavailable_on = unavailable_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST" or scope["path"] != ROUTE:
            await self.app(scope, receive, send)
            return
        body, complete = await read_body(receive, MAX_BODY_BYTES)
        placement = self._placement(scope, body) if complete and len(body) <= MAX_BODY_BYTES else None
        if placement is None:
            await self.app(scope, replay(body, complete, receive), send)
            return
        scope["path_template"] = ROUTE

        async def place(_: Scope, __: Receive, send: Send) -> None:
            try:
                order = await self.orders().create(placement.caller, placement.data, placement.idempotency_key)
            except Exception as exc:
                await respond_error(send, exc, self.unavailable_on)
                return
            await respond_json(send, 201, _encode(order))

        await request_id_middleware(self.metrics.middleware(place))(scope, receive, send)

    def _placement(self, scope: Scope, body: bytes) -> Placement | None:
        """The order request, or None when the app must answer (it words what is wrong)."""
        idempotency_key: str | None = None
        for name, value in scope["headers"]:
            if name == IDEMPOTENCY_KEY and idempotency_key is None:
                idempotency_key = value.decode("latin-1")
        if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            return None
        try:
            caller = self.callers.caller(authorization_of(scope["headers"]))
            return Placement(caller, _decode(body), idempotency_key)
        except (msgspec.ValidationError, msgspec.DecodeError, ServiceError):
            return None
