"""The orders service app: controllers, checks, the MySQL pool and the outbox relay; the order edge in front."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from asyncmy.errors import InterfaceError, OperationalError
from litestar import Litestar
from litestar.types import ASGIApp

from services.kit import kafka, mysql
from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.dynamo import DynamoClient
from services.kit.metrics import Metrics
from services.kit.mysql import MysqlSettings
from services.kit.revocations import Revocations
from services.orders.controllers import orders_controller
from services.orders.edge import OrderEdge
from services.orders.reconcile import StockReconciler
from services.orders.relay import OutboxRelay
from services.orders.service import OrderCounters, OrderService
from services.orders.settings import Settings
from services.orders.stock import StockLedger
from services.orders.store import OrderStore

MIGRATIONS = Path(__file__).parent / "migrations"


UNAVAILABLE_ON = (OperationalError, InterfaceError, OSError)  # MySQL; DynamoDB raises the kit's Unavailable


async def migrate(settings: MysqlSettings) -> None:
    """The migrations, on a connection of their own without the requests' read timeout (DDL may take long)."""
    pool = await mysql.create_pool(replace(settings, pool_size=1, read_timeout_s=None))
    try:
        await mysql.migrate(pool, MIGRATIONS)
    finally:
        await mysql.close_pool(pool)


def create_app(settings: Settings | None = None) -> ASGIApp:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    counters = OrderCounters(
        created=metrics.counter("orders_created_total", "orders placed"),
        cancelled=metrics.counter("orders_cancelled_total", "orders cancelled"),
        revenue=metrics.counter("orders_revenue_usd_total", "revenue of placed orders (USD)"),
        rejected=metrics.counter("orders_rejected_total", "orders refused", ["reason"]),
    )
    published = metrics.counter("outbox_published_total", "outbox events published to Kafka")
    backlog = metrics.gauge("outbox_backlog", "order events not yet published to Kafka")
    age = metrics.gauge("outbox_oldest_age_seconds", "age of the oldest unpublished order event")
    stock = StockLedger(DynamoClient(settings.aws.region), settings.table_products)
    holder: dict[str, OrderService] = {}

    @asynccontextmanager
    async def database_and_relay(_: Litestar) -> AsyncIterator[None]:
        pool = await mysql.create_pool(settings.mysql)
        relay = OutboxRelay(pool, settings.kafka, settings.relay_poll_s, settings.relay_batch, published,
                            backlog=backlog, age=age, clock_topic=settings.topic_orders_events)
        reconciler: StockReconciler | None = None
        try:
            await migrate(settings.mysql)
            orders = OrderService(OrderStore(pool), stock, settings.topic_orders_events, relay.wake, counters)
            holder["service"] = orders
            reconciler = StockReconciler(orders.store, stock, settings.reconcile_s, settings.hold_grace_s)
            relay.start()
            reconciler.start()
            yield
        finally:
            if reconciler is not None:
                await reconciler.stop()
            await relay.stop()
            await mysql.close_pool(pool)
            await stock.dynamo.close()

    async def check_mysql() -> None:
        await mysql.ping(holder["service"].store.pool)

    async def check_kafka() -> None:
        await kafka.check_reachable(settings.kafka)

    def service() -> OrderService:
        return holder["service"]

    revocations = Revocations.of(settings.service)
    callers = Callers(settings.service.jwt_secret, revocations)
    app = build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[orders_controller(service, callers)],
        checks={"mysql": check_mysql, "dynamodb": stock.describe, "kafka": check_kafka},
        metrics=metrics,
        lifespan=[database_and_relay],
        openapi=openapi_config("orders"),
        unavailable_on=UNAVAILABLE_ON,
        revocations=revocations,
    )
    return OrderEdge(app, service, callers, metrics, UNAVAILABLE_ON)
