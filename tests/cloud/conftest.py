"""Fixtures of the cloud layer: a private state dir, and the real Pulumi CLI with a file backend."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecomctl.cloud import pulumi_cli
from ecomctl.settings import Settings

SHARED_CACHE = Settings.load().cache_dir
"""The cache holding the built CLI, resolved before any test moves ``HOME`` or the cache dir."""


@dataclass
class FileBackend:
    """The ``file://`` backend the real CLI writes: ``<state root>/pulumi-backend/.pulumi``."""

    binary: Path
    state_root: Path

    @property
    def root(self) -> Path:
        return self.state_root / "pulumi-backend" / ".pulumi"

    def checkpoint(self, project: str, stack: str = "dev") -> dict[str, Any]:
        """The stack's state as the engine saved it (``latest`` of its checkpoint file)."""
        path = self.root / "stacks" / project / f"{stack}.json"
        latest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["checkpoint"].get("latest") or {}
        return latest

    def lock_dir(self, project: str, stack: str = "dev") -> Path:
        return self.root / "locks" / "organization" / project / stack

    def hold_lock(self, project: str, stack: str = "dev") -> Path:
        """A lock as another update of the stack holds it (what an interrupted ``pulumi`` leaves)."""
        path = self.lock_dir(project, stack) / f"{uuid.uuid4()}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"pid": 999999, "username": "someone", "hostname": "elsewhere",
                                    "timestamp": "2026-12-05T08:00:00Z"}), encoding="utf-8")
        return path

    def locks(self, project: str, stack: str = "dev") -> list[Path]:
        found = self.lock_dir(project, stack)
        return sorted(found.glob("*.json")) if found.is_dir() else []


@pytest.fixture(name="pulumi_binary", scope="session")
def fx_pulumi_binary() -> Path:
    """The real Pulumi CLI (``bin/test`` builds it first; built here only if it is missing)."""
    return pulumi_cli.build({**os.environ, "ECOMCTL_CACHE_DIR": str(SHARED_CACHE)})


@pytest.fixture(name="cloud_env")
def fx_cloud_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ecomctl state root and an empty cache; no Pulumi variables leak in from the shell."""
    state = tmp_path / "state"
    monkeypatch.setenv("ECOMCTL_STATE_DIR", str(state))
    monkeypatch.setenv("ECOMCTL_CACHE_DIR", str(tmp_path / "cache"))
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN",
                "ECOMCTL_SECRETS_PROVIDER", "ECOMCTL_SAMPLE_FAIL", "ECOMCTL_SAMPLE_DELAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    return state


@pytest.fixture(name="no_pulumi")
def fx_no_pulumi(cloud_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No built CLI in the cache and none on PATH (Python itself stays reachable)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return cloud_env


@pytest.fixture(name="pulumi_backend")
def fx_pulumi_backend(cloud_env: Path, pulumi_binary: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileBackend]:
    """The real CLI, found where ecomctl looks for it (the shared cache), and a fresh file backend."""
    monkeypatch.setenv("ECOMCTL_CACHE_DIR", str(SHARED_CACHE))
    yield FileBackend(binary=pulumi_binary, state_root=cloud_env)
