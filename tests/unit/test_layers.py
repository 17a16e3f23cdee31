"""The layer rules of docs/architecture.md ("Layers"), enforced by import-linter on the real tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ecomctl.cloud.programs import load_programs
from ecomctl.settings import REPO_ROOT

LINT = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([str(LINT), "--config", str(cwd / "pyproject.toml"), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def test_every_layer_contract_holds() -> None:
    done = lint(REPO_ROOT, REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 kept, 0 broken" in done.stdout


def test_the_contracts_catch_an_import_across_layers(tmp_path: Path) -> None:
    """The same contracts over a small tree where ecomctl imports programs and a service imports ecomctl."""
    for package in ("blueprint", "ecomctl", "programs", "services", "stream"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "ecomctl" / "cloud.py").write_text("def stages():\n    from programs import plugin\n")
    (tmp_path / "programs" / "plugin.py").write_text("")
    (tmp_path / "services" / "app.py").write_text("import ecomctl.cloud\n")
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    done = lint(tmp_path, tmp_path)
    assert done.returncode != 0
    assert "3 kept, 2 broken" in done.stdout, done.stdout
    assert "ecomctl.cloud -> programs.plugin" in done.stdout
    assert "services.app -> ecomctl.cloud" in done.stdout


def test_ecomctl_finds_the_programs_through_the_entry_point_only() -> None:
    programs = load_programs()
    assert [s.name for s in programs.stages] == ["aws", "gcp", "k8s"]
    keys = {k.name: k for k in programs.config_keys}
    assert programs.parse_value(keys["admin_cidrs"], "203.0.113.7/32, 198.51.100.0/24") == (
        "203.0.113.7/32", "198.51.100.0/24")
    assert programs.config("prod", {}).production and not programs.config("dev", {}).production
    # the CLI starts without importing any program
    probe = "import sys, ecomctl.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'programs'))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
