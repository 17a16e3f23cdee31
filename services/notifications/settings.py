"""The notifications service's configuration, read from the environment once (keys: ecomctl.wiring)."""

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
    topic_orders_events: str
    consumer_group: str
    aws_region: str
    table_notifications: str
    table_processed_events: str
    sns_topic_arn: str
    processed_ttl_days: int = 14

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service_name=env_str("SERVICE_NAME", "notifications", environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", 8004, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            kafka=KafkaSettings.from_env(environ),
            topic_orders_events=env_str("TOPIC_ORDERS_EVENTS", "orders-events", environ),
            consumer_group=env_str("KAFKA_CONSUMER_GROUP", "notifications-consumer", environ),
            aws_region=env_str("AWS_REGION", "us-east-1", environ),
            table_notifications=env_str("TABLE_NOTIFICATIONS", "notifications", environ),
            table_processed_events=env_str("TABLE_PROCESSED_EVENTS", "processed-events", environ),
            sns_topic_arn=env_str("SNS_TOPIC_ORDER_NOTIFICATIONS_ARN", "", environ),
        )
