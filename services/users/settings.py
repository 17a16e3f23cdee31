"""The users service's configuration, read from the environment once (keys: ecomctl.wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kit.mysql import MysqlSettings
from services.kit.settings import Env, env_int, env_str, redact


@dataclass(frozen=True)
class Settings:
    service_name: str
    host: str
    port: int
    log_level: str
    jwt_secret: str = field(repr=False)
    mysql: MysqlSettings
    admin_email: str
    admin_password: str = field(repr=False)
    token_ttl_s: int = 3600

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service_name=env_str("SERVICE_NAME", "users", environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", 8001, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            mysql=MysqlSettings(
                host=env_str("MYSQL_HOST", "127.0.0.1", environ),
                port=env_int("MYSQL_PORT", 3306, environ),
                user=env_str("MYSQL_USER", "users_svc", environ),
                password=env_str("MYSQL_PASSWORD", "", environ),
                database=env_str("MYSQL_DATABASE", "users", environ),
            ),
            admin_email=env_str("ADMIN_EMAIL", "", environ),
            admin_password=env_str("ADMIN_PASSWORD", "", environ),
        )

    def __repr__(self) -> str:
        return (f"Settings(service_name={self.service_name!r}, port={self.port}, mysql={self.mysql!r}, "
                f"jwt_secret={redact(self.jwt_secret)!r}, admin_email={self.admin_email!r})")
