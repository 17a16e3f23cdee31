"""The notifications service app: the API, the orders-events consumer, checks."""

from __future__ import annotations

from litestar import Litestar

from services.kit import aws, kafka
from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.dynamo import DynamoClient
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.notifications.controllers import notifications_controller
from services.notifications.service import NotificationService
from services.notifications.settings import Settings
from services.notifications.store import NotificationStore

# A fetch waits up to this long for more events: bigger batches. bench/notifications_path.py at 150
# events/s (DynamoDB Local with its rollback journal), ms of CPU per event, 0 -> 200 ms: worker
# 0.92 -> 0.49, DynamoDB 1.67 -> 1.22, AWS API 0.75 -> 0.52, Kafka 1.00 -> 0.72 (400 ms: no better).
GATHER_MS = 200


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
        delay=metrics.histogram("notification_delay_seconds", "from the order event to its stored notification",
                                (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)),
    )

    consumer = kafka.consumer_lifespan(
        settings.kafka, settings.topic_orders_events, settings.consumer_group, kafka.whole_batch(service.handle),
        lag=metrics.consumer_lag(), gather_ms=GATHER_MS,
    )

    async def check_kafka() -> None:
        await kafka.check_reachable(settings.kafka)

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[notifications_controller(service, Callers(settings.service.jwt_secret, revocations))],
        checks={"dynamodb": store.check_tables, "sns": store.check_topic, "kafka": check_kafka},
        metrics=metrics,
        lifespan=[store.dynamodb.lifespan, consumer],
        openapi=openapi_config("notifications"),
        revocations=revocations,
    )
