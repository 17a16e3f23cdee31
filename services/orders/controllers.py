"""Thin HTTP handlers of the orders API.

The handlers reach the service and the caller through the closure of ``orders_controller``
rather than Litestar dependencies: two independent dependencies per handler made Litestar
spawn an anyio task group per request, the largest single CPU cost of placing an order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Callers
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.orders.schemas import MAX_IDEMPOTENCY_KEY, Order, OrderCreate, OrderPage
from services.orders.service import OrderService

OrderId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
UserFilter = Annotated[str | None, Parameter(min_length=1, max_length=64, description="admin only")]
IdempotencyKey = Annotated[
    str | None, Parameter(header="Idempotency-Key", min_length=1, max_length=MAX_IDEMPOTENCY_KEY, required=False)
]
AnyRequest = Request[Any, Any, Any]


def orders_controller(orders: Callable[[], OrderService], callers: Callers) -> type[Controller]:
    """The orders routes, bound to the app's service (available once the app has started)."""

    class OrdersController(Controller):
        path = "/api/orders"
        tags = ["orders"]  # noqa: RUF012
        security = SECURITY

        @post("/", status_code=201, summary="Place an order (server-priced, stock reserved atomically)")
        async def create_order(
            self, request: AnyRequest, data: OrderCreate, idempotency_key: IdempotencyKey = None
        ) -> Order:
            return await orders().create(callers.of(request), data, idempotency_key)

        @get("/", summary="Orders, newest first (own; admin: all or ?user_id=)")
        async def list_orders(
            self, request: AnyRequest, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
            user_id: UserFilter = None,
        ) -> OrderPage:
            return await orders().page(callers.of(request), limit, cursor, user_id)

        @get("/{order_id:str}", summary="One order (owner or admin)")
        async def get_order(self, request: AnyRequest, order_id: OrderId) -> Order:
            return await orders().get(callers.of(request), order_id)

        @post("/{order_id:str}/cancel", status_code=200, summary="Cancel an order and release its stock")
        async def cancel_order(self, request: AnyRequest, order_id: OrderId) -> Order:
            return await orders().cancel(callers.of(request), order_id)

    return OrdersController
