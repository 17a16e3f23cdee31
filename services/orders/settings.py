"""The orders service's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.kafka import KafkaSettings
from services.kit.mysql import MysqlSettings
from services.kit.settings import AwsSettings, Env, ServiceSettings, env_str

MYSQL_READ_TIMEOUT_S = 4.0
"""A hung MariaDB fails a request's query after this long (503), well inside the gateway's 15 s."""


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    mysql: MysqlSettings
    kafka: KafkaSettings
    topic_orders_events: str
    aws: AwsSettings
    table_products: str
    relay_poll_s: float = 1.0
    relay_batch: int = 200
    reconcile_s: float = 10.0
    hold_grace_s: float = 60.0

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service=ServiceSettings.from_env(environ, name="orders", port=8003),
            mysql=MysqlSettings.from_env(environ, database="orders", pool_size=20,
                                         read_timeout_s=MYSQL_READ_TIMEOUT_S),
            kafka=KafkaSettings.from_env(environ),
            topic_orders_events=env_str("TOPIC_ORDERS_EVENTS", "orders-events", environ),
            aws=AwsSettings.from_env(environ),
            table_products=env_str("TABLE_PRODUCTS", "products", environ),
        )
