"""Thin HTTP handlers of the orders API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Caller
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.orders.schemas import Order, OrderCreate, OrderPage
from services.orders.service import OrderService

OrderId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
UserFilter = Annotated[str | None, Parameter(min_length=1, max_length=64, description="admin only")]
IdempotencyKey = Annotated[
    str | None, Parameter(header="Idempotency-Key", min_length=1, max_length=200, required=False)
]


CallerDep = NamedDependency[Caller]
OrderDep = NamedDependency[OrderService]

class OrdersController(Controller):
    path = "/api/orders"
    tags = ["orders"]  # noqa: RUF012
    security = SECURITY

    @post("/", status_code=201, summary="Place an order (server-priced, stock reserved atomically)")
    async def create_order(
        self, data: OrderCreate, caller: CallerDep, orders: OrderDep, idempotency_key: IdempotencyKey = None
    ) -> Order:
        return await orders.create(caller, data, idempotency_key)

    @get("/", summary="Orders, newest first (own; admin: all or ?user_id=)")
    async def list_orders(
        self, caller: CallerDep, orders: OrderDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
        user_id: UserFilter = None,
    ) -> OrderPage:
        return await orders.page(caller, limit, cursor, user_id)

    @get("/{order_id:str}", summary="One order (owner or admin)")
    async def get_order(self, order_id: OrderId, caller: CallerDep, orders: OrderDep) -> Order:
        return await orders.get(caller, order_id)

    @post("/{order_id:str}/cancel", status_code=200, summary="Cancel an order and release its stock")
    async def cancel_order(self, order_id: OrderId, caller: CallerDep, orders: OrderDep) -> Order:
        return await orders.cancel(caller, order_id)
