"""The Automation layer up to the ``pulumi`` executable, which the stand-in replaces.

The Automation API, our inline programs, the gRPC language server and the engine events are
all real; only the ``pulumi`` binary is the fake in ``fake_pulumi/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecomctl.cloud.engine import Engine
from ecomctl.cloud.workspace import CloudSettings
from ecomctl.errors import CloudError, ConfigError, LockedError, PrerequisiteError
from tests.cloud import sample_stages
from tests.cloud.conftest import FakePulumi

pytestmark = pytest.mark.slow


def _engine(events: list[tuple[str, Any]] | None = None, stack: str = "dev") -> Engine:
    return Engine(
        CloudSettings.load(stack),
        stages=sample_stages.STAGES,
        config_factory=sample_stages.config_factory,
        on_event=None if events is None else (lambda stage, event: events.append((stage, event))),
    )


def _projects(calls: list[dict[str, Any]]) -> list[str]:
    return [c["project"] for c in calls]


def test_up_runs_the_stages_in_order_and_passes_outputs_forward(fake_pulumi: FakePulumi) -> None:
    events: list[tuple[str, Any]] = []
    outputs = _engine(events).up()

    assert _projects(fake_pulumi.commands("up")) == ["ecomctl-aws", "ecomctl-gcp", "ecomctl-k8s"]
    by_stage = {s.stage: s.values for s in outputs.stages}
    assert by_stage["aws"]["received"] == {}
    assert by_stage["gcp"]["received"]["aws.vpc_id"] == "vpc-0abc"
    assert by_stage["gcp"]["peer_vpc"] == "vpc-0abc"
    assert by_stage["k8s"]["received"]["gcp.peer_vpc"] == "vpc-0abc"
    assert by_stage["k8s"]["storefront_url"] == "https://shop.example/vpc-0abc"
    assert outputs.flat()["aws.pet_length"] == 2
    # engine events reached the sink, per stage, with the resources each program registered
    created = {(stage, e.resource_pre_event.metadata.type) for stage, e in events if e.resource_pre_event}
    assert ("aws", "random:index/randomPet:RandomPet") in created
    assert ("gcp", "random:index/randomId:RandomId") in created
    assert ("k8s", "random:index/randomString:RandomString") in created


def test_secret_outputs_stay_secret_in_later_stages(fake_pulumi: FakePulumi) -> None:
    outputs = _engine().up()

    assert "aws.admin_password" in outputs.secret_keys()
    # gcp and k8s export what they received: the password is inside, so those outputs are secret
    assert "gcp.received" in outputs.secret_keys()
    assert "k8s.received" in outputs.secret_keys()
    state = (fake_pulumi.state_root / "pulumi-backend" / ".fake-pulumi" / "ecomctl-gcp" / "dev.json")
    recorded = json.loads(state.read_text())
    assert recorded["outputs"]["received"]["secret"] is True
    assert recorded["outputs"]["peer_vpc"]["secret"] is False


def test_down_destroys_in_reverse_order_and_lists_resources_first(fake_pulumi: FakePulumi) -> None:
    engine = _engine()
    engine.up()
    doomed = engine.resources()
    assert [(r.stage, r.type) for r in doomed] == [
        ("k8s", "random:index/randomString:RandomString"),
        ("gcp", "random:index/randomId:RandomId"),
        ("aws", "random:index/randomPet:RandomPet"),
    ]
    engine.destroy()
    assert _projects(fake_pulumi.commands("destroy")) == ["ecomctl-k8s", "ecomctl-gcp", "ecomctl-aws"]
    assert engine.resources() == []
    assert all(not s.values for s in engine.outputs().stages)


def test_config_reaches_every_stage_and_the_program(fake_pulumi: FakePulumi) -> None:
    engine = _engine()
    engine.set_config("node_max", "9", secret=False)
    sets = fake_pulumi.commands("config")
    assert {c["project"] for c in sets if "set-all" in c["argv"]} == {"ecomctl-aws", "ecomctl-gcp", "ecomctl-k8s"}
    outputs = engine.up()
    # the program read it through ProgramConfig.from_pulumi_config (typed: an int)
    assert outputs.flat()["aws.node_max"] == 9
    entries = {e.key: e for e in engine.list_config()}
    assert entries["ecomctl:node_max"].value == "9" and not entries["ecomctl:node_max"].secret
    engine.remove_config("node_max")
    assert "ecomctl:node_max" not in {e.key for e in engine.list_config()}


def test_secret_config_is_never_plain_text_in_the_stack_files(fake_pulumi: FakePulumi) -> None:
    engine = _engine()
    value = "hunter2-very-secret-token"
    engine.set_config("gcp:accessToken", value, secret=True)

    files = list((fake_pulumi.state_root / "dev" / "pulumi").glob("*/Pulumi.dev.yaml"))
    assert len(files) == 3
    for path in files:
        text = path.read_text()
        assert "gcp:accessToken" in text and "secure:" in text
        assert value not in text
    entry = next(e for e in engine.list_config() if e.key == "gcp:accessToken")
    assert entry.secret
    # every pulumi process got the stack's passphrase, which was generated owner-only
    assert all(c["passphrase_set"] for c in fake_pulumi.calls() if c["argv"][-1] != "version")
    passphrase = fake_pulumi.state_root / "dev" / "passphrase"
    assert passphrase.stat().st_mode & 0o777 == 0o600


def test_unknown_config_key_is_refused_before_any_pulumi_call(fake_pulumi: FakePulumi) -> None:
    with pytest.raises(ConfigError, match="unknown configuration key 'node_maximum'"):
        _engine().set_config("node_maximum", "3", secret=False)
    assert fake_pulumi.commands("config") == []


def test_locked_stack_says_so_and_cancel_is_the_way_out(fake_pulumi: FakePulumi) -> None:
    engine = _engine()
    engine.up()
    lock = fake_pulumi.state_root / "pulumi-backend" / ".fake-pulumi" / "ecomctl-gcp" / "dev.lock"
    lock.write_text("4242")  # another update of the gcp stage holds the stack

    with pytest.raises(LockedError) as caught:
        engine.up()
    assert "'dev' (ecomctl-gcp) is locked" in caught.value.message
    assert caught.value.hint is not None and "ecomctl cancel --stack dev" in caught.value.hint

    assert engine.cancel() == ["gcp"]
    assert not lock.exists()
    engine.up()


def test_failed_update_names_the_stage_and_cause_and_stops(fake_pulumi: FakePulumi,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "ecomctl-aws")
    with pytest.raises(CloudError) as caught:
        _engine().up()
    assert caught.value.message.startswith("up of stack 'dev' (ecomctl-aws) failed: creating resource: AccessDenied")
    assert caught.value.hint is not None and "run the same command again" in caught.value.hint
    assert _projects(fake_pulumi.commands("up")) == ["ecomctl-aws"]


def test_a_program_exception_is_a_cloud_error(fake_pulumi: FakePulumi) -> None:
    def broken(cfg: Any, upstream: Any) -> None:
        raise ValueError("the gcp stage needs the aws stage's outputs first")

    engine = _engine()
    engine.stages = (sample_stages.SampleStage("gcp", broken),)
    with pytest.raises(CloudError, match=r"ecomctl-gcp.*failed"):
        engine.up()


def test_without_the_cli_every_operation_says_how_to_install_it(no_pulumi: Path) -> None:
    engine = _engine()
    for operation in (engine.up, engine.destroy, engine.outputs, engine.list_config, engine.refresh):
        with pytest.raises(PrerequisiteError) as caught:
            operation()
        assert "get.pulumi.com" in caught.value.message
        assert "preview --offline" in caught.value.message
        assert "\n" not in caught.value.message and caught.value.hint is None
    assert not (no_pulumi / "dev" / "passphrase").exists()


def test_a_stack_that_was_never_created_has_no_outputs_and_down_creates_nothing(fake_pulumi: FakePulumi) -> None:
    engine = _engine(stack="never")
    assert engine.outputs().stages == ()
    engine.destroy()
    assert fake_pulumi.commands("destroy") == []
    assert not [c for c in fake_pulumi.calls() if "init" in c["argv"]]


def test_preview_reports_changes_per_stage_and_refresh_runs_every_stage(fake_pulumi: FakePulumi) -> None:
    engine = _engine()
    first = engine.preview()
    # gcp and k8s need aws's outputs: the engine cannot evaluate them before aws is deployed
    assert first == {"aws": {"create": 1, "same": 0, "delete": 0}, "gcp": None, "k8s": None}
    assert _projects(fake_pulumi.commands("preview")) == ["ecomctl-aws"]
    assert fake_pulumi.commands("up") == []  # a preview changes nothing
    engine.up()
    assert engine.preview()["gcp"] == {"create": 0, "same": 1, "delete": 0}
    engine.refresh()
    assert _projects(fake_pulumi.commands("refresh")) == ["ecomctl-aws", "ecomctl-gcp", "ecomctl-k8s"]
