"""The orders service's configuration, read from the environment once (keys: ecomctl.wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kit.kafka import KafkaSettings
from services.kit.mysql import MysqlSettings
from services.kit.settings import Env, env_int, env_str


@dataclass(frozen=True)
class Settings:
    service_name: str
    host: str
    port: int
    log_level: str
    jwt_secret: str = field(repr=False)
    mysql: MysqlSettings
    kafka: KafkaSettings
    topic_orders_events: str
    aws_region: str
    table_products: str
    relay_poll_s: float = 1.0
    relay_batch: int = 200

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service_name=env_str("SERVICE_NAME", "orders", environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", 8003, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            mysql=MysqlSettings(
                host=env_str("MYSQL_HOST", "127.0.0.1", environ),
                port=env_int("MYSQL_PORT", 3306, environ),
                user=env_str("MYSQL_USER", "orders_svc", environ),
                password=env_str("MYSQL_PASSWORD", "", environ),
                database=env_str("MYSQL_DATABASE", "orders", environ),
                pool_size=20,
            ),
            kafka=KafkaSettings.from_env(environ),
            topic_orders_events=env_str("TOPIC_ORDERS_EVENTS", "orders-events", environ),
            aws_region=env_str("AWS_REGION", "us-east-1", environ),
            table_products=env_str("TABLE_PRODUCTS", "products", environ),
        )
