"""Profiles and thresholds as a user writes them: parsed, evaluated, and read back from a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ecomctl.errors import ScaleTestError
from ecomctl.scaletest.profiles import PROFILES, load
from ecomctl.scaletest.thresholds import Threshold, evaluate, orders_check

FIGURES = {
    "all": {"requests": 1000, "failures": 5, "p50_ms": 20.0, "p95_ms": 240.0, "p99_ms": 900.0},
    "orders.create": {"requests": 100, "failures": 0, "p50_ms": 60.0, "p95_ms": 160.0, "p99_ms": 300.0},
}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecomctl", "scale-test", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "ECOMCTL_STATE_DIR": "/nonexistent-ecomctl-state"})


@pytest.mark.parametrize(("text", "holds"), [
    ("p95=300ms", True), ("p95=0.2s", False), ("errors=1%", True), ("errors=0.4%", False),
    ("orders.create.p95=150ms", False), ("orders.create.p99=1s", True), ("orders.create.errors=0%", True),
    ("users.me.p95=1ms", True),  # a group that saw no request holds (and says so)
])
def test_a_threshold_holds_or_breaks_on_the_figures(text: str, holds: bool) -> None:
    [check] = evaluate([Threshold.parse(text)], FIGURES)
    assert check.passed is holds, check.detail


@pytest.mark.parametrize("text", ["p95", "p95=fast", "p97=10ms", "errors=5ms", "p95=10%", "=1"])
def test_an_unreadable_threshold_is_refused(text: str) -> None:
    with pytest.raises(ScaleTestError):
        Threshold.parse(text)


def test_an_order_missing_from_the_store_fails_the_run() -> None:
    assert orders_check({"a", "b"}, {"a", "b", "c"}).passed
    missing = orders_check({"a", "b"}, {"a"})
    assert not missing.passed and "1 of 2" in missing.detail


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_shown_profile_reads_back_as_the_same_profile(name: str, tmp_path: Path) -> None:
    shown = cli("--profile", name, "--show-profile")
    assert shown.returncode == 0, shown.stderr
    path = tmp_path / f"{name}.json"
    path.write_text(shown.stdout)
    assert load(str(path)) == PROFILES[name]


def test_a_changed_profile_file_is_what_runs(tmp_path: Path) -> None:
    data = PROFILES["smoke"].to_dict()
    data["stages"] = [{"duration_s": 3, "users": 2, "spawn_rate": 1}]
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    shown = cli("--profile", str(path), "--users", "4", "--show-profile")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["stages"] == [{"duration_s": 3.0, "users": 4, "spawn_rate": 2.0}]


@pytest.mark.parametrize("args", [
    ["--profile", "nonesuch"], ["--threshold", "p95=soon"], ["--url", "http://127.0.0.1:9", "--stack", "local"],
])
def test_what_cannot_run_exits_2_with_one_line(args: list[str]) -> None:
    done = cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[0].startswith("error:")
