"""Fixtures of the cloud layer: a private state dir and the stand-in ``pulumi`` first on PATH."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FAKE = Path(__file__).parent / "fake_pulumi" / "fake_pulumi.py"


@dataclass
class FakePulumi:
    """The stand-in executable's directory, its invocation log and the backend it writes."""

    bin_dir: Path
    log: Path
    state_root: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def commands(self, word: str) -> list[dict[str, Any]]:
        """Invocations whose first command word is ``word`` (e.g. "up"), in order."""
        return [c for c in self.calls() if _first_word(c["argv"]) == word]


def _first_word(argv: list[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "")


@pytest.fixture(name="cloud_env")
def fx_cloud_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ecomctl state root; no Pulumi variables leak in from the developer's shell."""
    state = tmp_path / "state"
    monkeypatch.setenv("ECOMCTL_STATE_DIR", str(state))
    for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN",
                "ECOMCTL_SECRETS_PROVIDER", "FAKE_PULUMI_FAIL", "FAKE_PULUMI_DELAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    return state


@pytest.fixture(name="no_pulumi")
def fx_no_pulumi(cloud_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH on which no ``pulumi`` can be found (Python itself stays reachable)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return cloud_env


@pytest.fixture(name="fake_pulumi")
def fx_fake_pulumi(cloud_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePulumi]:
    """The stand-in ``pulumi`` first on PATH, running under this interpreter."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    exe = bin_dir / "pulumi"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE}" "$@"\n', encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    log = tmp_path / "fake-pulumi.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    yield FakePulumi(bin_dir=bin_dir, log=log, state_root=cloud_env)
