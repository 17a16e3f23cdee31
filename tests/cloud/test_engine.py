"""The Automation layer on the real Pulumi engine: the built CLI, a ``file://`` backend, passphrase secrets.

Only the stages' programs are stand-ins (``sample_stages``: component resources, because the
provider plugins of the real programs cannot be installed here). The tests of one deployed stack
share it (module scope) and run in file order; the last one destroys it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecomctl.cloud.engine import Engine, StackOutputs
from ecomctl.cloud.workspace import CloudSettings
from ecomctl.errors import CloudError, ConfigError, LockedError, PrerequisiteError
from tests.cloud import sample_stages
from tests.cloud.conftest import SHARED_CACHE, FileBackend

pytestmark = pytest.mark.slow

Events = list[tuple[str, Any]]
SECRET_TOKEN = "hunter2-very-secret-token"


def _engine(events: Events | None = None, stack: str = "dev") -> Engine:
    return Engine(
        CloudSettings.load(stack),
        stages=sample_stages.STAGES,
        config_factory=sample_stages.config_factory,
        on_event=None if events is None else (lambda stage, event: events.append((stage, event))),
    )


def _stage_order(events: Events) -> list[str]:
    """The stages in the order their events arrived, each once."""
    order: list[str] = []
    for stage, _event in events:
        if not order or order[-1] != stage:
            order.append(stage)
    return order


def _changed(events: Events, op: str) -> list[tuple[str, str]]:
    """(stage, type) of every non-stack resource the engine reported doing ``op`` to."""
    found = []
    for stage, event in events:
        outputs = event.res_outputs_event
        if outputs and outputs.metadata.op.value == op and outputs.metadata.type != "pulumi:pulumi:Stack":
            found.append((stage, outputs.metadata.type))
    return found


@dataclass
class Deployed:
    engine: Engine
    backend: FileBackend
    first_preview: dict[str, dict[str, int] | None]
    outputs: StackOutputs
    events: Events


@pytest.fixture(name="deployed", scope="module")
def fx_deployed(tmp_path_factory: pytest.TempPathFactory, pulumi_binary: Path) -> Iterator[Deployed]:
    """Stack ``dev`` configured, previewed, then brought up once for the tests of this module."""
    tmp = tmp_path_factory.mktemp("engine")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMCTL_STATE_DIR", str(tmp / "state"))
        mp.setenv("ECOMCTL_CACHE_DIR", str(SHARED_CACHE))
        mp.setenv("PULUMI_HOME", str(tmp / "pulumi-home"))
        for var in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "ECOMCTL_SECRETS_PROVIDER",
                    "ECOMCTL_SAMPLE_FAIL", "ECOMCTL_SAMPLE_DELAY"):
            mp.delenv(var, raising=False)
        events: Events = []
        engine = _engine(events)
        engine.set_config("node_max", "9", secret=False)
        engine.set_config("gcp:accessToken", SECRET_TOKEN, secret=True)
        first_preview = engine.preview()
        events.clear()  # from here on: the events of `up`
        outputs = engine.up()
        yield Deployed(engine, FileBackend(pulumi_binary, tmp / "state"), first_preview, outputs, events)


def test_up_runs_the_stages_in_order_and_passes_outputs_forward(deployed: Deployed) -> None:
    assert _stage_order(deployed.events) == ["aws", "gcp", "k8s"]
    by_stage = {s.stage: s.values for s in deployed.outputs.stages}
    assert by_stage["aws"]["received"] == {}
    assert by_stage["gcp"]["received"]["aws.vpc_id"] == "vpc-0abc"
    assert by_stage["gcp"]["peer_vpc"] == "vpc-0abc"
    assert by_stage["k8s"]["received"]["gcp.peer_vpc"] == "vpc-0abc"
    assert by_stage["k8s"]["storefront_url"] == "https://shop.example/vpc-0abc"
    assert _changed(deployed.events, "create") == [
        ("aws", "ecomctl:standin:Cluster"), ("gcp", "ecomctl:standin:Network"), ("k8s", "ecomctl:standin:Release")]
    # the engine saved each stage's resources in its own stack of the file backend
    saved = deployed.backend.checkpoint("ecomctl-gcp")["resources"]
    assert [r["type"] for r in saved] == ["pulumi:pulumi:Stack", "ecomctl:standin:Network"]


def test_secret_outputs_stay_secret_in_later_stages_and_in_the_state(deployed: Deployed) -> None:
    secret = deployed.outputs.secret_keys()
    assert "aws.admin_password" in secret
    # gcp and k8s export what they received: the password is inside, so those outputs are secret
    assert {"gcp.received", "k8s.received"} <= secret and "gcp.peer_vpc" not in secret
    assert deployed.outputs.flat()["aws.admin_password"] == sample_stages.ADMIN_PASSWORD
    for project in ("ecomctl-aws", "ecomctl-gcp", "ecomctl-k8s"):
        text = (deployed.backend.root / "stacks" / project / "dev.json").read_text()
        assert sample_stages.ADMIN_PASSWORD not in text and "ciphertext" in text
    assert deployed.backend.checkpoint("ecomctl-gcp")["resources"][0]["outputs"]["peer_vpc"] == "vpc-0abc"


def test_config_reaches_every_stage_and_secrets_are_encrypted(deployed: Deployed) -> None:
    engine = deployed.engine
    # the program read it through ProgramConfig.from_pulumi_config (typed: an int)
    assert deployed.outputs.flat()["aws.node_max"] == 9
    files = sorted((engine.settings.stack_dir / "pulumi").glob("*/Pulumi.dev.yaml"))
    assert [f.parent.name for f in files] == ["aws", "gcp", "k8s"]
    for path in files:
        text = path.read_text()
        assert "ecomctl:node_max: \"9\"" in text and "gcp:accessToken:" in text and "secure: v1:" in text
        assert SECRET_TOKEN not in text
    entries = {e.key: e for e in engine.list_config()}
    assert entries["ecomctl:node_max"].value == "9" and not entries["ecomctl:node_max"].secret
    # decrypted with the stack's passphrase, which was generated owner-only
    assert entries["gcp:accessToken"].secret and entries["gcp:accessToken"].value == SECRET_TOKEN
    assert (engine.settings.stack_dir / "passphrase").stat().st_mode & 0o777 == 0o600
    engine.remove_config("gcp:accessToken")
    assert "gcp:accessToken" not in {e.key for e in engine.list_config()}
    assert all("accessToken" not in f.read_text() for f in files)


def test_unknown_config_key_is_refused_before_any_pulumi_call(pulumi_backend: FileBackend) -> None:
    with pytest.raises(ConfigError, match="unknown configuration key 'node_maximum'"):
        _engine().set_config("node_maximum", "3", secret=False)
    assert not pulumi_backend.state_root.exists()


def test_preview_reports_changes_per_stage_and_refresh_runs_every_stage(deployed: Deployed) -> None:
    # before `up`: gcp and k8s need aws's outputs, so the engine could not evaluate them
    assert deployed.first_preview == {"aws": {"create": 2}, "gcp": None, "k8s": None}
    assert deployed.engine.preview() == {stage: {"same": 2} for stage in ("aws", "gcp", "k8s")}
    events: Events = []
    refreshing = _engine(events)
    refreshing.refresh()
    assert _stage_order(events) == ["aws", "gcp", "k8s"]
    assert [stage for stage, e in events if e.summary_event] == ["aws", "gcp", "k8s"]


def test_locked_stack_says_so_and_cancel_is_the_way_out(deployed: Deployed) -> None:
    lock = deployed.backend.hold_lock("ecomctl-gcp")  # another update of the gcp stage holds it
    with pytest.raises(LockedError) as caught:
        deployed.engine.up()
    assert "'dev' (ecomctl-gcp) is locked" in caught.value.message
    assert caught.value.hint is not None and "ecomctl cancel --stack dev" in caught.value.hint

    assert "gcp" in deployed.engine.cancel()
    assert not lock.exists() and deployed.backend.locks("ecomctl-gcp") == []
    assert deployed.engine.up().flat()["k8s.storefront_url"] == "https://shop.example/vpc-0abc"


def test_down_destroys_in_reverse_order_and_lists_resources_first(deployed: Deployed) -> None:
    doomed = deployed.engine.resources()
    assert [(r.stage, r.type, r.name) for r in doomed] == [
        ("k8s", "ecomctl:standin:Release", "release"),
        ("gcp", "ecomctl:standin:Network", "network-suffix"),
        ("aws", "ecomctl:standin:Cluster", "cluster-name"),
    ]
    events: Events = []
    _engine(events).destroy()
    assert _stage_order(events) == ["k8s", "gcp", "aws"]
    assert [t for _s, t in _changed(events, "delete")] == [
        "ecomctl:standin:Release", "ecomctl:standin:Network", "ecomctl:standin:Cluster"]
    assert deployed.engine.resources() == []
    assert all(not s.values for s in deployed.engine.outputs().stages)
    deployed.engine.destroy(remove=True)
    assert not list((deployed.backend.root / "stacks").glob("*/dev.json"))


def test_a_failed_stage_stops_up_and_its_error_is_shown_whole(pulumi_backend: FileBackend,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMCTL_SAMPLE_FAIL", "gcp")
    with pytest.raises(CloudError) as caught:
        _engine().up()
    message = caught.value.message
    assert message.startswith("up of stack 'dev' (ecomctl-gcp) failed: ")
    assert "AccessDenied: the stand-in of stage gcp refuses" in message
    assert caught.value.hint is not None and "run the same command again" in caught.value.hint
    assert pulumi_backend.checkpoint("ecomctl-aws")["resources"]  # aws was done and recorded
    assert not (pulumi_backend.root / "stacks" / "ecomctl-k8s").exists()  # k8s never started


def test_without_the_cli_every_operation_says_how_to_install_it(no_pulumi: Path) -> None:
    engine = _engine()
    for operation in (engine.up, engine.destroy, engine.outputs, engine.list_config, engine.refresh):
        with pytest.raises(PrerequisiteError) as caught:
            operation()
        assert "bin/pulumi-cli" in caught.value.message and "get.pulumi.com" in caught.value.message
        assert "preview --offline" in caught.value.message
        assert "\n" not in caught.value.message and caught.value.hint is None
    assert not (no_pulumi / "dev" / "passphrase").exists()


def test_a_stack_that_was_never_created_has_no_outputs_and_down_creates_nothing(
        pulumi_backend: FileBackend) -> None:
    engine = _engine(stack="never")
    assert engine.outputs().stages == ()
    engine.destroy()
    assert not list(pulumi_backend.root.glob("stacks/*/never.json"))
