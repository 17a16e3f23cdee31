"""``ecomctl preview --offline``: run every stage's program under Pulumi's mock runtime.

No Pulumi CLI, plugin or cloud account is involved: ``pulumi.runtime.set_mocks`` stands in for
the engine, every resource registration is recorded (type token, name, inputs as the provider
would receive them: camelCase keys), and plausible computed outputs (ids, ARNs, endpoints) are
filled in (``ecomctl.cloud.mockruntime``, shared with the program tests) so later stages see
their upstream values, exactly as ``up`` passes them forward.
Each stage runs in a fresh ``contextvars`` context, so the runtime's ambient state of one stage
never leaks into the next.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ecomctl.cloud.mockruntime import invoke, mock_id, mock_state, plain
from ecomctl.cloud.mockruntime import lookup as lookup  # re-exported: policy reads inputs with it
from ecomctl.cloud.stages import StageLike, upstream_key, with_secrets
from ecomctl.errors import CloudError

if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs


@dataclass(frozen=True)
class Resource:
    """One resource a program registers: what ``up`` would create."""

    stage: str
    type: str
    name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The last part of the type token (``Deployment``, ``Instance``)."""
        return self.type.rsplit(":", 1)[-1]

    def get(self, path: str, default: Any = None) -> Any:
        """A nested input by dotted path (``vpcConfig.endpointPublicAccess``; list items by index)."""
        return lookup(self.inputs, path, default)


@dataclass(frozen=True)
class OfflineRun:
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any]  # "<stage>.<output>" -> plain value
    secret: frozenset[str] = frozenset()  # the outputs that are secrets


def run_offline(stages: Sequence[StageLike], config: Any, stack: str) -> OfflineRun:
    """Every stage in ``up`` order under mocks; each sees the outputs of the stages before it."""
    resources: list[Resource] = []
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    for stage in stages:
        try:
            stage_resources, stage_outputs, stage_secret = contextvars.Context().run(
                _run_stage, stage, config, dict(outputs), frozenset(secret), stack
            )
        except Exception as exc:  # a program bug: say which stage, keep the cause
            cause = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise CloudError(
                f"the {stage.name} program failed under the mock runtime: {cause}",
                hint="run the program's tests (tests/programs) for the full traceback",
                details=_trace_tail(exc),
            ) from None
        resources.extend(stage_resources)
        outputs.update({upstream_key(stage.name, k): v for k, v in stage_outputs.items()})
        secret.update(upstream_key(stage.name, k) for k in stage_secret)
    return OfflineRun(tuple(resources), outputs, frozenset(secret))


def _trace_tail(exc: BaseException) -> str:
    import traceback

    lines = traceback.format_exception(exc)
    return "".join(lines[-4:]).rstrip()


def _run_stage(
    stage: StageLike, config: Any, upstream: Mapping[str, Any], secret: frozenset[str], stack: str
) -> tuple[list[Resource], dict[str, Any], set[str]]:
    import asyncio

    import pulumi
    from pulumi.runtime import set_mocks
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = _RecordingMocks(stage.name, stack)
    set_mocks(cast(Any, mocks), project=f"ecomctl-{stage.name}", stack=stack, preview=False)
    exported: dict[str, Any] = {}
    exported_secret: set[str] = set()

    def body() -> None:
        stage.program(config, with_secrets(upstream, secret))
        root = get_root_resource()
        for key, value in dict(getattr(root, "outputs", {}) or {}).items():
            output = pulumi.Output.from_input(value)
            exported[key] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                exported_secret.add(key)

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        asyncio.get_event_loop().close()
    return mocks.resources, exported, exported_secret


class _RecordingMocks:
    """``pulumi.runtime.Mocks``: records every resource, echoes inputs plus computed outputs."""

    def __init__(self, stage: str, stack: str) -> None:
        self.stage = stage
        self.stack = stack
        self.resources: list[Resource] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = plain(dict(args.inputs))
        self.resources.append(Resource(self.stage, args.typ, args.name, inputs))
        self.resources.extend(_expand_component(self.stage, args.typ, inputs))
        return mock_id(args.name), mock_state(args.typ, args.name, dict(args.inputs))

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        return invoke(args.token, args.args)

    def register_transform(self, transform: Any) -> None:  # pragma: no cover - protocol
        pass

    def register_invoke_transform(self, transform: Any) -> None:  # pragma: no cover - protocol
        pass


def _expand_component(stage: str, type_: str, inputs: Mapping[str, Any]) -> list[Resource]:
    """Kubernetes objects passed to a remote ``ConfigGroup`` are resources too (mocks hide them)."""
    if not type_.startswith("kubernetes:yaml/") or not isinstance(inputs.get("objs"), list):
        return []
    found = []
    for obj in inputs["objs"]:
        if isinstance(obj, Mapping) and "kind" in obj:
            api = str(obj.get("apiVersion", "v1"))
            group_version = api if "/" in api else f"core/{api}"
            found.append(Resource(stage, f"kubernetes:{group_version}:{obj['kind']}",
                                  str(lookup(obj, "metadata.name", "")), dict(obj)))
    return found
