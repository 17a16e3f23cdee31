"""Each service's settings read exactly the keys ``blueprint.wiring.service_env`` gives it (no platform)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from blueprint.topology import TOPOLOGY, Service
from blueprint.wiring import service_env
from ecomctl.local.context import LocalContext
from ecomctl.secrets import StackSecrets
from ecomctl.settings import Settings as EcomctlSettings

# Read by the AWS SDK itself (one code path for local and cloud), not by the settings classes.
SDK_KEYS = {
    "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
}
# Read when present (the cloud's Kafka); the local stack does not set them.
KAFKA_OPTIONAL = {"KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"}
MYSQL_OPTIONAL = {"MYSQL_TLS", "MYSQL_TLS_CA"}
"""Keys the local wiring leaves out and the cloud sets: SASL on MSK, TLS to RDS."""


def optional_keys(env: dict[str, str]) -> set[str]:
    """The optional keys a service reads given its wired ones (Kafka's with Kafka, MySQL's with MySQL)."""
    found: set[str] = set()
    if any(k.startswith("KAFKA_") for k in env):
        found |= KAFKA_OPTIONAL
    if any(k.startswith("MYSQL_") for k in env):
        found |= MYSQL_OPTIONAL
    return found
DOCS = Path(__file__).resolve().parents[2] / "docs" / "services.md"


class Recording(dict[str, str]):
    def __init__(self, data: dict[str, str]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def _env(service: Service) -> dict[str, str]:
    ctx = LocalContext(EcomctlSettings.load({"HOME": "/h", "ECOMCTL_PORT_OFFSET": "3"}), StackSecrets.generate())
    return {k: str(v) for k, v in service_env(service, ctx.endpoints).items()}


def keys_read(service: Service, env: dict[str, str]) -> set[str]:
    settings_cls = importlib.import_module(f"{service.package}.settings").Settings
    recording = Recording(env)
    settings_cls.from_env(recording)
    return recording.read


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_settings_read_what_wiring_emits(service: Service) -> None:
    env = _env(service)
    read = keys_read(service, env)
    assert set(env) - SDK_KEYS <= read, sorted(set(env) - SDK_KEYS - read)
    assert read - set(env) <= optional_keys(env), sorted(read - set(env) - optional_keys(env))


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_settings_values(service: Service) -> None:
    env = _env(service)
    settings = importlib.import_module(f"{service.package}.settings").Settings.from_env(env)
    assert settings.service.port == int(env["PORT"]) and settings.service.host == env["HOST"]
    assert settings.service.jwt_secret == env["JWT_SECRET"]
    assert env["JWT_SECRET"] not in repr(settings)
    if "MYSQL_PASSWORD" in env:
        assert env["MYSQL_PASSWORD"] not in repr(settings)


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_docs_list_every_key(service: Service) -> None:
    text = DOCS.read_text()
    section = text.split(f"## {service.name}\n", 1)[1].split("\n## ", 1)[0]
    env = _env(service)
    documented = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `")}
    assert documented == set(env) | optional_keys(env)
