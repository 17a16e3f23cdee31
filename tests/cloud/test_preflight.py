"""What ``up`` checks before the first stage changes anything (``ecomctl.cloud.prereqs``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ecomctl.cloud import prereqs
from ecomctl.cloud.programs import load_programs
from ecomctl.errors import PrerequisiteError
from tests.cloud.conftest import FileBackend


def rows_by_name(rows: list[prereqs.CheckRow]) -> dict[str, prereqs.CheckRow]:
    return {row[0]: row for row in rows}


def test_the_eks_api_must_be_reachable_from_here() -> None:
    """The programs' default keeps the EKS endpoint private: the k8s stage could not reach it."""
    default = load_programs().config("dev", {})
    _name, ok, detail, fix = prereqs.eks_api_check(default.admin_cidrs, "dev")
    assert not ok and "private" in detail and fix == "ecomctl config set admin_cidrs <this machine's public IP>/32 " \
        "--stack dev"
    opened = load_programs().config("dev", {"admin_cidrs": ("203.0.113.7/32",)})
    assert prereqs.eks_api_check(opened.admin_cidrs, "dev")[1]


def test_preflight_checks_what_the_real_stages_need(pulumi_backend: FileBackend, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the built Pulumi CLI (found in the cache) and Python on PATH, but no docker and no aws CLI
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    needs = [need for stage in load_programs().stages for need in stage.needs]
    env = {"HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    rows = prereqs.preflight(needs, load_programs().config("dev", {}), "dev", env)
    found = rows_by_name(rows)
    assert rows[0][:2] == ("Pulumi CLI", True)
    assert len(rows) == 1 + len(set(needs))  # each need checked once
    assert found["AWS credentials"][1] and not found["Google Cloud credentials"][1]
    assert found["Docker (image builds)"][1:3] == (False, "not on PATH")
    assert found["AWS CLI (kubeconfig)"][1:3] == (False, "not on PATH")
    assert not found["EKS API reachable"][1]
    with pytest.raises(PrerequisiteError) as caught:  # the first failure, in stage order
        prereqs.require(rows)
    assert caught.value.message == "Docker (image builds): not on PATH"


def test_a_docker_cli_without_an_engine_is_not_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    _name, ok, detail, _fix = prereqs.docker_check()
    assert not ok
    assert detail == "not on PATH" or "finds no Docker engine" in detail


def test_an_unknown_need_fails_naming_the_known_ones(pulumi_backend: FileBackend) -> None:
    rows = prereqs.preflight(["teleporter"], None, "dev", {})
    assert rows[1][:2] == ("teleporter", False) and "eks-api" in rows[1][3]
