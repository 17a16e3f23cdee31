"""The notifications service's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.kafka import KafkaSettings
from services.kit.settings import AwsSettings, Env, ServiceSettings, env_str


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    kafka: KafkaSettings
    topic_orders_events: str
    consumer_group: str
    aws: AwsSettings
    table_notifications: str
    table_processed_events: str
    sns_topic_arn: str
    processed_ttl_days: int = 14

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service=ServiceSettings.from_env(environ, name="notifications", port=8004),
            kafka=KafkaSettings.from_env(environ),
            topic_orders_events=env_str("TOPIC_ORDERS_EVENTS", "orders-events", environ),
            consumer_group=env_str("KAFKA_CONSUMER_GROUP", "notifications-consumer", environ),
            aws=AwsSettings.from_env(environ),
            table_notifications=env_str("TABLE_NOTIFICATIONS", "notifications", environ),
            table_processed_events=env_str("TABLE_PROCESSED_EVENTS", "processed-events", environ),
            sns_topic_arn=env_str("SNS_TOPIC_ORDER_NOTIFICATIONS_ARN", "", environ),
        )
