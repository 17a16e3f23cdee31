"""The notifications service app: the API, the orders-events consumer, checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from botocore.exceptions import BotoCoreError
from litestar import Litestar
from litestar.di import Provide

from services.kit import aws, kafka
from services.kit.app import build_app, openapi_config
from services.kit.auth import caller_provider
from services.kit.dynamo import DynamoClient, DynamoError
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.notifications.controllers import NotificationsController
from services.notifications.service import NotificationService
from services.notifications.settings import Settings
from services.notifications.store import NotificationStore


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    revocations = Revocations.of(settings.service)
    store = NotificationStore(
        DynamoClient(settings.aws.region), aws.client("sns", settings.aws.region),
        settings.table_notifications, settings.table_processed_events, settings.sns_topic_arn,
        settings.processed_ttl_days * 86400,
    )
    service = NotificationService(
        store, settings.consumer_group,
        sent=metrics.counter("notifications_sent_total", "notifications published to SNS", ["type"]),
        skipped=metrics.counter("notifications_skipped_total", "events not notified", ["reason"]),
    )

    consumer = kafka.consumer_lifespan(
        settings.kafka, settings.topic_orders_events, settings.consumer_group, service.handle,
        concurrency=8,
    )

    @asynccontextmanager
    async def dynamodb_client(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.dynamodb.close()

    async def check_kafka() -> None:
        await kafka.check_reachable(settings.kafka)

    def provide_notifications() -> NotificationService:
        return service

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[NotificationsController],
        checks={"dynamodb": store.check_tables, "sns": store.check_topic, "kafka": check_kafka},
        metrics=metrics,
        lifespan=[dynamodb_client, consumer],
        dependencies={
            "notifications": Provide(provide_notifications, sync_to_thread=False),
            "caller": Provide(caller_provider(settings.service.jwt_secret, revocations), sync_to_thread=False),
        },
        openapi=openapi_config("notifications"),
        unavailable_on=(BotoCoreError, DynamoError, aiohttp.ClientError),
        revocations=revocations,
    )
