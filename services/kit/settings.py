"""Typed readers for environment variables, with safe defaults (no I/O beyond ``os.environ``).

Also the blocks of keys every service, or every AWS user, reads (``ServiceSettings``, ``AwsSettings``);
the MySQL and Kafka blocks are ``MysqlSettings``/``KafkaSettings`` next to their clients.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

Env = Mapping[str, str]


API_BODY_BYTES = 256 * 1024
"""The largest request body a service's API takes (its JSON documents are a few KiB); a larger
one is a 413 problem answer, at the gateway and on the service's own port."""


def _env(environ: Env | None) -> Env:
    return os.environ if environ is None else environ


def env_str(name: str, default: str = "", environ: Env | None = None) -> str:
    """The value of ``name``, or ``default`` when it is unset or empty."""
    value = _env(environ).get(name, "")
    return value if value != "" else default


def env_int(name: str, default: int, environ: Env | None = None) -> int:
    raw = env_str(name, "", environ)
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_bool(name: str, default: bool, environ: Env | None = None) -> bool:
    raw = env_str(name, "", environ).lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean, got {raw!r}")


def env_list(name: str, environ: Env | None = None) -> tuple[str, ...]:
    """A comma-separated list; blanks dropped."""
    return tuple(part.strip() for part in env_str(name, "", environ).split(",") if part.strip())


MIN_JWT_SECRET_CHARS = 32
MIN_JWT_SECRET_DISTINCT = 12
PLACEHOLDER_WORDS = ("secret", "change", "default", "example", "password")
"""Words of a hand-written or sample key. A generated key (the cloud's: 32 random characters,
the local stack's: 48) contains one with a probability under 1e-7 (six letters or more)."""


def is_loopback(host: str) -> bool:
    """Whether a bind address is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def weak_jwt_secret(secret: str) -> str | None:
    """Why ``secret`` cannot sign tokens of a reachable service (None: it can).

    HS256 keys are guessable offline from any one token: a reachable service needs a long random
    key, not a word, a repeated pattern or a sample value."""
    if len(secret) < MIN_JWT_SECRET_CHARS:
        return f"it has {len(secret)} characters, fewer than {MIN_JWT_SECRET_CHARS}"
    if len(set(secret)) < MIN_JWT_SECRET_DISTINCT:
        return f"it uses {len(set(secret))} distinct characters, fewer than {MIN_JWT_SECRET_DISTINCT}"
    lowered = secret.lower()
    for word in PLACEHOLDER_WORDS:
        if word in lowered:
            return f"it contains the word {word!r} (a sample or default value)"
    return None


def redact(value: str) -> str:
    """What a secret looks like in a log line or a repr."""
    return "***" if value else ""


@dataclass(frozen=True)
class ServiceSettings:
    """What every service reads: identity, bind address, log level, the JWT key and where revoked
    tokens are listed (``services.kit.revocations``).

    A service bound to an address other than loopback (a cloud stack's pods bind ``0.0.0.0``;
    the local stack binds ``127.0.0.1``) refuses a weak ``JWT_SECRET``: ``ValueError`` at start."""

    name: str
    host: str
    port: int
    log_level: str
    jwt_secret: str = field(repr=False)
    revoked_tokens: str = ""  # the revoked-tokens table ("" where none is wired)
    region: str = "us-east-1"

    @classmethod
    def from_env(cls, environ: Env | None = None, *, name: str, port: int) -> ServiceSettings:
        """``name`` and ``port`` are this service's defaults for ``SERVICE_NAME`` and ``PORT``."""
        return cls(
            name=env_str("SERVICE_NAME", name, environ),
            host=env_str("HOST", "127.0.0.1", environ),
            port=env_int("PORT", port, environ),
            log_level=env_str("LOG_LEVEL", "INFO", environ),
            jwt_secret=env_str("JWT_SECRET", "", environ),
            revoked_tokens=env_str("TABLE_REVOKED_TOKENS", "", environ),
            region=env_str("AWS_REGION", "us-east-1", environ),
        )

    def __post_init__(self) -> None:
        if is_loopback(self.host):
            return
        weakness = weak_jwt_secret(self.jwt_secret)
        if weakness is not None:
            raise ValueError(f"JWT_SECRET is too weak for a service listening on {self.host} ({weakness}): "
                             "set a random key of at least 32 characters")


@dataclass(frozen=True)
class AwsSettings:
    """What a service using AWS reads itself (the SDK reads the endpoint and credential keys)."""

    region: str

    @classmethod
    def from_env(cls, environ: Env | None = None) -> AwsSettings:
        return cls(region=env_str("AWS_REGION", "us-east-1", environ))
