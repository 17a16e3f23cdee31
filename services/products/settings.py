"""The products service's configuration, read from the environment once (keys: ecomctl.wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kit.settings import Env, env_int, env_str


@dataclass(frozen=True)
class Settings:
    service_name: str
    host: str
    port: int
    log_level: str
    jwt_secret: str = field(repr=False)
    aws_region: str
    table_products: str
    cache_ttl_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service_name=env_str("SERVICE_NAME", "products", environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", 8002, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            aws_region=env_str("AWS_REGION", "us-east-1", environ),
            table_products=env_str("TABLE_PRODUCTS", "products", environ),
        )
