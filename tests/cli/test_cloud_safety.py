"""A cloud ``up`` shows what it will create and its cost before anything changes; ``down`` of a
production stack needs the stack's name typed back. Run as a user runs ``ecomctl``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli.test_cloud_cli import ecomctl, fx_cloud_creds  # noqa: F401
from tests.cloud.conftest import (  # noqa: F401
    FileBackend,
    fx_cloud_env,
    fx_pulumi_backend,
    fx_pulumi_binary,
)


def saved_resources(backend: FileBackend, stack: str) -> int:
    """Resources the engine has saved for ``stack`` over the three stages (0 for a stage never run)."""
    stacks = backend.root / "stacks"
    return sum(len(backend.checkpoint(project, stack).get("resources") or [])
               for project in ("ecomctl-aws", "ecomctl-gcp", "ecomctl-k8s")
               if (stacks / project / f"{stack}.json").exists())


def test_up_lists_resources_and_cost_then_changes_nothing_when_refused(pulumi_backend: FileBackend,
                                                                       cloud_creds: None) -> None:
    refused = ecomctl("up", "--stack", "dev", input_text="n\n")
    assert refused.returncode == 1, refused.stderr
    assert "3 resources (aws 1, gcp 1, k8s 1); about 0.00 USD/hour" in refused.stderr
    assert "no hourly price: 3 resources of 3 types" in refused.stderr
    assert "error: up of stack 'dev' not confirmed: nothing was changed" in refused.stderr
    assert saved_resources(pulumi_backend, "dev") == 0


@pytest.mark.slow
def test_down_of_a_production_stack_needs_its_name_typed(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    assert ecomctl("up", "--stack", "prod", "--yes").returncode == 0

    for answer in ("", "y\n", "yes\n", "dev\n"):
        refused = ecomctl("down", "--stack", "prod", "--yes", input_text=answer)
        assert refused.returncode == 1, refused.stderr
        assert "production stack: type its name to delete it" in refused.stderr
        assert "error: down of production stack 'prod' not confirmed: nothing deleted" in refused.stderr
    kept = saved_resources(pulumi_backend, "prod")
    assert kept > 0

    typed = ecomctl("down", "--stack", "prod", input_text="prod\n")
    assert typed.returncode == 0, typed.stderr
    deleted = re.findall(r"\b(aws|gcp|k8s)\s+deleted ecomctl:standin:", typed.stderr)
    assert deleted == ["k8s", "gcp", "aws"]
    assert saved_resources(pulumi_backend, "prod") == 0
    status = ecomctl("status", "--stack", "prod", "--json")
    assert status.returncode == 3
    assert {c["state"] for c in json.loads(status.stdout)["components"]} == {"absent"}


@pytest.mark.slow
def test_down_of_a_production_stack_in_a_script(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    assert ecomctl("up", "--stack", "prod", "--yes").returncode == 0
    done = ecomctl("down", "--stack", "prod", "--yes-destroy-production", "--purge")
    assert done.returncode == 0, done.stderr
    assert not list((pulumi_backend.root / "stacks").glob("*/prod.json"))
    assert not (pulumi_backend.state_root / "prod").exists()


def test_logs_of_a_cloud_stack_say_where_to_look(pulumi_backend: FileBackend, cloud_creds: None,
                                                 tmp_path: Path) -> None:
    done = ecomctl("logs", "orders", "--stack", "dev")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "error: logs are not available for a cloud stack"
    assert lines[1].startswith("hint: ") and "kubectl logs" in lines[1]
