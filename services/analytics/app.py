"""The analytics service app: the API, the analytics-results consumer, checks."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from litestar import Litestar
from litestar.di import Provide

from services.analytics.controllers import AnalyticsController
from services.analytics.service import AnalyticsService
from services.analytics.settings import Settings
from services.analytics.store import AnalyticsStore
from services.kit import aws, kafka
from services.kit.app import build_app, openapi_config
from services.kit.auth import caller_provider
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    revocations = Revocations.of(settings.service)
    store = AnalyticsStore(aws.client("dynamodb", settings.aws.region), settings.table_analytics)
    service = AnalyticsService(
        store, settings.recent_windows,
        stored=metrics.counter("analytics_results_stored_total", "stream results stored", ["kind"]),
        skipped=metrics.counter("analytics_results_skipped_total", "malformed stream results skipped"),
    )

    consumer = kafka.consumer_lifespan(
        settings.kafka, settings.topic_analytics_results, settings.consumer_group, service.handle,
        concurrency=8,
    )

    async def check_kafka() -> None:
        await kafka.check_reachable(settings.kafka)

    def provide_analytics() -> AnalyticsService:
        return service

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[AnalyticsController],
        checks={"dynamodb": store.describe, "kafka": check_kafka},
        metrics=metrics,
        lifespan=[consumer],
        dependencies={
            "analytics": Provide(provide_analytics, sync_to_thread=False),
            "caller": Provide(caller_provider(settings.service.jwt_secret, revocations), sync_to_thread=False),
        },
        openapi=openapi_config("analytics"),
        unavailable_on=(BotoCoreError,),
        revocations=revocations,
    )
