"""The analytics service's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.kafka import KafkaSettings
from services.kit.settings import AwsSettings, Env, ServiceSettings, env_str


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    kafka: KafkaSettings
    topic_analytics_results: str
    consumer_group: str
    aws: AwsSettings
    table_analytics: str
    recent_windows: int = 60

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service=ServiceSettings.from_env(environ, name="analytics", port=8005),
            kafka=KafkaSettings.from_env(environ),
            topic_analytics_results=env_str("TOPIC_ANALYTICS_RESULTS", "analytics-results", environ),
            consumer_group=env_str("KAFKA_CONSUMER_GROUP", "analytics-consumer", environ),
            aws=AwsSettings.from_env(environ),
            table_analytics=env_str("TABLE_ANALYTICS", "analytics", environ),
        )
