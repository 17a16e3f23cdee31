"""The config table, the defaults, reading ``ecomctl:*`` from Pulumi, and the stage order."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys

import pulumi
import pytest

from programs.config import CONFIG_KEYS, ProgramConfig, parse_value
from programs.platform import STAGES, stage
from tests.programs.harness import RecordingMocks


def test_every_field_is_documented_once() -> None:
    fields = {f.name for f in dataclasses.fields(ProgramConfig)} - {"stack"}
    names = [k.name for k in CONFIG_KEYS]
    assert sorted(names) == sorted(fields) and len(names) == len(set(names))
    assert all(k.help and k.type in {"str", "int", "bool", "list[str]"} for k in CONFIG_KEYS)
    assert not any(k.secret for k in CONFIG_KEYS)  # passwords are generated, never configured


def test_zones_default_to_az_ids_of_the_region() -> None:
    assert ProgramConfig.for_stack("dev", aws_region="eu-west-1").zones == ("euw1-az1", "euw1-az2")
    assert ProgramConfig.for_stack("dev", availability_zones=("x1", "x2", "x3")).zones == ("x1", "x2", "x3")
    with pytest.raises(ValueError, match="availability_zones"):
        _ = ProgramConfig.for_stack("dev", aws_region="ap-south-2").zones  # no silent guess


@pytest.mark.parametrize("name", ["", "x", "Prod", "my_stack", "-dev", "dev-", "a" * 21, "dev stack", "dev/x"])
def test_stack_names_that_cannot_prefix_cloud_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="stack name"):
        ProgramConfig.for_stack(name)


def test_the_gcp_project_has_no_default() -> None:
    from programs.gcp import project

    assert ProgramConfig.for_stack("dev").gcp_project == ""
    assert project(ProgramConfig.for_stack("dev", gcp_project="shop-4711")) == "shop-4711"
    # a fresh interpreter, as the engine runs the program: no mock runtime, no default
    real = subprocess.run([sys.executable, "-c", "from programs.config import ProgramConfig\n"
                           "from programs.gcp import project\nproject(ProgramConfig.for_stack('dev'))"],
                          capture_output=True, text=True, timeout=300)
    assert real.returncode != 0 and "gcp_project is not set" in real.stderr


def test_production_follows_the_stack_name() -> None:
    assert ProgramConfig.for_stack("prod").production is True
    assert ProgramConfig.for_stack("dev").production is False
    assert ProgramConfig.for_stack("dev", node_max=9).node_max == 9


@pytest.mark.parametrize(("type_", "raw", "value"), [("int", "7", 7), ("bool", "true", True),
                                                    ("list[str]", "a, b", ("a", "b")), ("str", "x", "x")])
def test_parse_value(type_: str, raw: str, value: object) -> None:
    key = next(k for k in CONFIG_KEYS if k.type == type_)
    assert parse_value(key, raw) == value


def test_from_pulumi_config_reads_the_ecomctl_namespace() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())  # see harness.run
    pulumi.runtime.set_mocks(RecordingMocks(), project="ecomctl-aws", stack="staging")
    pulumi.runtime.set_all_config({"ecomctl:node_max": "9", "ecomctl:production": "true",
                                   "ecomctl:availability_zones": "eu-west-1a,eu-west-1b,eu-west-1c"})
    try:
        cfg = ProgramConfig.from_pulumi_config()
    finally:
        pulumi.runtime.set_all_config({})
    assert cfg.stack == "staging" and cfg.node_max == 9 and cfg.production is True
    assert cfg.availability_zones == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert cfg.node_min == ProgramConfig.for_stack("xy").node_min


def test_stage_order() -> None:
    assert [s.name for s in STAGES] == ["aws", "gcp", "k8s"]
    assert stage("gcp") is STAGES[1]
    with pytest.raises(KeyError):
        stage("azure")
