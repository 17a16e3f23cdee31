"""The gateway's configuration, read from the environment once (keys: blueprint.wiring)."""

from __future__ import annotations

from dataclasses import dataclass

from services.kit.settings import API_BODY_BYTES, AwsSettings, Env, ServiceSettings, env_list, env_str

# Public path prefix -> upstream service. Mirrors ``TOPOLOGY.routes`` (a unit test checks they agree;
# services never import ``ecomctl``).
ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/users", "users"),
    ("/api/auth", "users"),
    ("/api/products", "products"),
    ("/api/orders", "orders"),
    ("/api/notifications", "notifications"),
    ("/api/analytics", "analytics"),
)
# The data bucket's upload rules. Mirror ``TOPOLOGY.bucket("data")`` (checked by the same test).
UPLOAD_TYPES: tuple[str, ...] = ("text/plain", "text/csv", "application/json")
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Upstream -> the query parameters its anonymous GET answers depend on (the public cache's key;
# a test checks them against the service's own OpenAPI document).
PUBLIC_QUERY: dict[str, frozenset[str]] = {"products": frozenset({"limit", "cursor", "q", "category"})}


def _upstream_key(service: str) -> str:
    return f"UPSTREAM_{service.upper().replace('-', '_')}_URL"


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    upstreams: dict[str, str]
    cors_origins: tuple[str, ...]
    aws: AwsSettings
    bucket_data: str
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 15.0
    max_body_bytes: int = API_BODY_BYTES  # a proxied request, as the service itself allows
    own_body_bytes: int = 16 * 1024  # the gateway's own routes (an upload's presign request)
    presign_expiry_s: int = 600
    public_cache_ttl_s: float = 1.0
    public_cache_bytes: int = 32 * 1024 * 1024

    @classmethod
    def from_env(cls, environ: Env | None = None) -> Settings:
        defaults = {"users": 8001, "products": 8002, "orders": 8003, "notifications": 8004, "analytics": 8005}
        return cls(
            service=ServiceSettings.from_env(environ, name="api-gateway", port=8000),
            upstreams={
                name: env_str(_upstream_key(name), f"http://127.0.0.1:{port}", environ).rstrip("/")
                for name, port in defaults.items()
            },
            cors_origins=env_list("CORS_ORIGINS", environ),
            aws=AwsSettings.from_env(environ),
            bucket_data=env_str("BUCKET_DATA", "data", environ),
        )
