"""The products service's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.settings import AwsSettings, Env, ServiceSettings, env_str


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    aws: AwsSettings
    table_products: str
    cache_ttl_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service=ServiceSettings.from_env(environ, name="products", port=8002),
            aws=AwsSettings.from_env(environ),
            table_products=env_str("TABLE_PRODUCTS", "products", environ),
        )
