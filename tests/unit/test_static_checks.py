"""ruff and mypy (strict for ecomctl, programs, services; configured in pyproject.toml) are clean."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ecomctl.settings import REPO_ROOT

pytestmark = [pytest.mark.slow]


def test_ruff_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:]


def test_mypy_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-4000:]
