"""The config table, the defaults, reading ``ecomctl:*`` from Pulumi, and the stage order."""

from __future__ import annotations

import asyncio
import dataclasses

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


def test_zones_default_to_the_region() -> None:
    assert ProgramConfig.for_stack("dev", aws_region="eu-west-1").zones == ("eu-west-1a", "eu-west-1b")
    assert ProgramConfig.for_stack("dev", availability_zones=("x1", "x2", "x3")).zones == ("x1", "x2", "x3")


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
    assert cfg.node_min == ProgramConfig.for_stack("x").node_min


def test_stage_order() -> None:
    assert [s.name for s in STAGES] == ["aws", "gcp", "k8s"]
    assert stage("gcp") is STAGES[1]
    with pytest.raises(KeyError):
        stage("azure")
