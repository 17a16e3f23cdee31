"""The analytics service's configuration, read from the environment once (keys: ecomctl.wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kit.kafka import KafkaSettings
from services.kit.settings import Env, env_int, env_str


@dataclass(frozen=True)
class Settings:
    service_name: str
    host: str
    port: int
    log_level: str
    jwt_secret: str = field(repr=False)
    kafka: KafkaSettings
    topic_analytics_results: str
    consumer_group: str
    aws_region: str
    table_analytics: str
    recent_windows: int = 60

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service_name=env_str("SERVICE_NAME", "analytics", environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", 8005, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            kafka=KafkaSettings.from_env(environ),
            topic_analytics_results=env_str("TOPIC_ANALYTICS_RESULTS", "analytics-results", environ),
            consumer_group=env_str("KAFKA_CONSUMER_GROUP", "analytics-consumer", environ),
            aws_region=env_str("AWS_REGION", "us-east-1", environ),
            table_analytics=env_str("TABLE_ANALYTICS", "analytics", environ),
        )
