"""The users service's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.kit.mysql import MysqlSettings
from services.kit.settings import Env, ServiceSettings, env_str, redact


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    mysql: MysqlSettings
    admin_email: str
    admin_password: str = field(repr=False)
    token_ttl_s: int = 3600

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        return cls(
            service=ServiceSettings.from_env(environ, name="users", port=8001),
            mysql=MysqlSettings.from_env(environ, database="users"),
            admin_email=env_str("ADMIN_EMAIL", "", environ),
            admin_password=env_str("ADMIN_PASSWORD", "", environ),
        )

    def __repr__(self) -> str:
        return (f"Settings(service={self.service!r}, mysql={self.mysql!r}, "
                f"jwt_secret={redact(self.service.jwt_secret)!r}, admin_email={self.admin_email!r})")
