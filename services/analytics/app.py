"""The analytics service app: the API, the analytics-results consumer, checks."""

from __future__ import annotations

from litestar import Litestar

from services.analytics.controllers import analytics_controller
from services.analytics.service import AnalyticsService
from services.analytics.settings import Settings
from services.analytics.store import AnalyticsStore
from services.kit import kafka
from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.dynamo import DynamoClient
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    revocations = Revocations.of(settings.service)
    store = AnalyticsStore(DynamoClient(settings.aws.region), settings.table_analytics)
    service = AnalyticsService(
        store, settings.recent_windows,
        stored=metrics.counter("analytics_results_stored_total", "stream results stored", ["kind"]),
        skipped=metrics.counter("analytics_results_skipped_total", "malformed stream results skipped"),
        window_end=metrics.gauge("analytics_last_window_end_seconds", "end (event time) of the newest stored window"),
        stored_at=metrics.gauge("analytics_last_window_stored_seconds", "when a window result was last stored"),
    )

    consumer = kafka.consumer_lifespan(
        settings.kafka, settings.topic_analytics_results, settings.consumer_group,
        kafka.each_record(service.handle, concurrency=8), lag=metrics.consumer_lag(),
    )

    async def check_kafka() -> None:
        await kafka.check_reachable(settings.kafka)

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[analytics_controller(service, Callers(settings.service.jwt_secret, revocations))],
        checks={"dynamodb": store.describe, "kafka": check_kafka},
        metrics=metrics,
        lifespan=[store.dynamo.lifespan, consumer],
        openapi=openapi_config("analytics"),
        revocations=revocations,
    )
