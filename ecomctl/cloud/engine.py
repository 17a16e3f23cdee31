"""The Pulumi Automation API calls for one cloud stack: stages up in order, down reversed.

Every stage is its own Pulumi stack (project ``ecomctl-<stage>``, inline program). ``up`` runs
the stages in order and hands each one the plain outputs of the stages before it, keyed
``"<stage>.<output>"``; ``down`` destroys them in reverse order. Every Automation call blocks;
engine events arrive on Pulumi's worker threads and go to ``on_event(stage, event)`` untouched
(``ecomctl.cloud.progress`` turns them into a Rich view through a thread-safe queue).
The ``pulumi`` executable is the one ``ecomctl.cloud.pulumi_cli`` finds (the cached build first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ecomctl.cloud.programs import config_key
from ecomctl.cloud.stages import (
    ConfigFactory,
    StageLike,
    platform_stages,
    pulumi_config,
    upstream_key,
    with_secrets,
)
from ecomctl.cloud.workspace import (
    CloudSettings,
    engine_errors,
    project_name,
    require_pulumi_cli,
    workspace_options,
)
from ecomctl.errors import ConfigError

if TYPE_CHECKING:
    from pulumi import automation as auto

EventSink = Callable[[str, Any], None]
"""``(stage, pulumi.automation.events.EngineEvent)``, called on Pulumi's worker threads."""

CONFIG_NAMESPACE = "ecomctl"


@dataclass(frozen=True)
class StageOutputs:
    """One stage's stack outputs: plain values, and which of them are secrets."""

    stage: str
    values: Mapping[str, Any]
    secret: frozenset[str] = frozenset()


@dataclass(frozen=True)
class StackOutputs:
    """Every stage's outputs, in stage order."""

    stages: tuple[StageOutputs, ...]

    def flat(self) -> dict[str, Any]:
        """``{"<stage>.<output>": value}``: what later stages receive as ``upstream``."""
        return {upstream_key(s.stage, k): v for s in self.stages for k, v in s.values.items()}

    def secret_keys(self) -> frozenset[str]:
        return frozenset(upstream_key(s.stage, k) for s in self.stages for k in s.secret)

    def get(self, name: str) -> Any:
        """The first stage output called ``name`` (stages export distinct names)."""
        for s in self.stages:
            if name in s.values:
                return s.values[name]
        return None


@dataclass(frozen=True)
class ConfigEntry:
    key: str
    value: str
    secret: bool


@dataclass(frozen=True)
class DeployedResource:
    stage: str
    type: str
    name: str


_NONE = StackOutputs(())


@dataclass
class Engine:
    """All Pulumi operations of one ecomctl cloud stack."""

    settings: CloudSettings
    stages: Sequence[StageLike] = field(default_factory=platform_stages)
    config_factory: ConfigFactory = pulumi_config
    on_event: EventSink | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def up(self) -> StackOutputs:
        """Create or update every stage in order, each seeing the outputs of those before it."""
        require_pulumi_cli()
        done: list[StageOutputs] = []
        for stage in self.stages:
            stack = self._stack(stage, StackOutputs(tuple(done)))
            with engine_errors(self.settings.stack, stage.name, "up"):
                result = stack.up(color="never", on_event=self._sink(stage.name))
            done.append(_stage_outputs(stage.name, result.outputs, done))
        return StackOutputs(tuple(done))

    def preview(self) -> dict[str, dict[str, int] | None]:
        """What ``up`` would change, per stage: ``{stage: {"create": n, "same": n, ...}}``.

        A stage is previewed against the outputs its upstream stages have *now*; a stage whose
        upstream is not deployed yet cannot be evaluated by the engine and maps to ``None``
        (``preview --offline`` evaluates all of them with mock outputs)."""
        require_pulumi_cli()
        changes: dict[str, dict[str, int] | None] = {}
        blocked = False
        for stage in self.stages:
            upstream = self._current_upstream(stage.name)
            if blocked or any(not s.values for s in upstream.stages) or \
                    len(upstream.stages) < self._index(stage.name):
                blocked = True
                changes[stage.name] = None
                continue
            stack = self._stack(stage, upstream)
            with engine_errors(self.settings.stack, stage.name, "preview"):
                result = stack.preview(color="never", on_event=self._sink(stage.name))
            changes[stage.name] = {str(k): int(v) for k, v in (result.change_summary or {}).items()}
        return changes

    def refresh(self) -> None:
        """Reconcile every stage's state with what exists in the clouds."""
        require_pulumi_cli()
        for stage in self.stages:
            stack = self._stack(stage, self._current_upstream(stage.name))
            with engine_errors(self.settings.stack, stage.name, "refresh"):
                stack.refresh(color="never", on_event=self._sink(stage.name))

    def destroy(self, remove: bool = False) -> None:
        """Destroy every stage in reverse order; ``remove`` also deletes the stacks' state."""
        require_pulumi_cli()
        for stage in reversed(self.stages):
            if self._existing(stage) is None:  # never created (or already removed): nothing to do
                continue
            stack = self._stack(stage, self._current_upstream(stage.name))
            with engine_errors(self.settings.stack, stage.name, "down"):
                stack.destroy(color="never", on_event=self._sink(stage.name))
                if remove:
                    stack.workspace.remove_stack(self.settings.stack)

    def cancel(self) -> list[str]:
        """Release the lock of every stage whose update was interrupted; the stages released."""
        from pulumi.automation import errors as auto_errors

        require_pulumi_cli()
        released: list[str] = []
        for stage in self.stages:
            stack = self._existing(stage)
            if stack is None:
                continue
            try:
                stack.cancel()
            except auto_errors.CommandError:  # nothing to cancel on this stage
                continue
            released.append(stage.name)
        return released

    # -- reading -----------------------------------------------------------------------
    def outputs(self) -> StackOutputs:
        """The outputs of every stage that exists (missing stages are left out)."""
        require_pulumi_cli()
        found: list[StageOutputs] = []
        for stage in self.stages:
            stack = self._existing(stage)
            if stack is None:
                continue
            with engine_errors(self.settings.stack, stage.name, "outputs"):
                found.append(_stage_outputs(stage.name, stack.outputs(), found))
        return StackOutputs(tuple(found))

    def resources(self) -> list[DeployedResource]:
        """Every resource the stack's state holds (what ``down`` deletes), in deletion order."""
        require_pulumi_cli()
        found: list[DeployedResource] = []
        for stage in reversed(self.stages):
            stack = self._existing(stage)
            if stack is None:
                continue
            with engine_errors(self.settings.stack, stage.name, "down"):
                deployment = stack.export_stack().deployment or {}
            for res in deployment.get("resources") or []:
                type_ = str(res.get("type", ""))
                if type_ == "pulumi:pulumi:Stack" or type_.startswith("pulumi:providers:"):
                    continue
                found.append(DeployedResource(stage.name, type_, str(res.get("urn", "")).rsplit("::", 1)[-1]))
        return found

    # -- configuration -----------------------------------------------------------------
    def set_config(self, key: str, value: str, secret: bool) -> None:
        """Set ``key`` on every stage's stack (secrets are encrypted by the secrets provider)."""
        from pulumi.automation import ConfigValue

        require_pulumi_cli()
        full = qualify(key)
        for stage in self.stages:
            stack = self._stack(stage, _NONE)
            with engine_errors(self.settings.stack, stage.name, "config set"):
                stack.set_all_config({full: ConfigValue(value=value, secret=secret)})

    def remove_config(self, key: str) -> None:
        require_pulumi_cli()
        full = qualify(key)
        for stage in self.stages:
            stack = self._stack(stage, _NONE)
            with engine_errors(self.settings.stack, stage.name, "config rm"):
                stack.remove_config(full)

    def list_config(self) -> list[ConfigEntry]:
        """The stack's configuration (as the first stage holds it; every stage holds the same)."""
        require_pulumi_cli()
        first = self.stages[0]
        stack = self._stack(first, _NONE)
        with engine_errors(self.settings.stack, first.name, "config"):
            values = stack.get_all_config()
        return [ConfigEntry(k, str(v.value), bool(v.secret)) for k, v in sorted(values.items())]

    # -- plumbing ----------------------------------------------------------------------
    def _program(self, stage: StageLike, upstream: StackOutputs) -> Callable[[], None]:
        values, secret = upstream.flat(), upstream.secret_keys()
        factory = self.config_factory

        def program() -> None:
            stage.program(factory(), with_secrets(values, secret))

        return program

    def _stack(self, stage: StageLike, upstream: StackOutputs) -> auto.Stack:
        from pulumi import automation as auto

        with engine_errors(self.settings.stack, stage.name, "select"):
            return auto.create_or_select_stack(
                stack_name=self.settings.stack,
                project_name=project_name(stage.name),
                program=self._program(stage, upstream),
                opts=workspace_options(self.settings, stage.name),
            )

    def _existing(self, stage: StageLike) -> auto.Stack | None:
        from pulumi import automation as auto

        try:
            with engine_errors(self.settings.stack, stage.name, "select"):
                return auto.select_stack(
                    stack_name=self.settings.stack,
                    project_name=project_name(stage.name),
                    program=self._program(stage, _NONE),
                    opts=workspace_options(self.settings, stage.name),
                )
        except ConfigError:  # the stage's stack does not exist
            return None

    def _current_upstream(self, stage_name: str) -> StackOutputs:
        before: list[StageOutputs] = []
        for stage in self.stages:
            if stage.name == stage_name:
                break
            stack = self._existing(stage)
            if stack is not None:
                with engine_errors(self.settings.stack, stage.name, "outputs"):
                    before.append(_stage_outputs(stage.name, stack.outputs(), before))
        return StackOutputs(tuple(before))

    def _index(self, stage_name: str) -> int:
        return [s.name for s in self.stages].index(stage_name)

    def _sink(self, stage: str) -> Callable[[Any], None] | None:
        sink = self.on_event
        if sink is None:
            return None
        return lambda event: sink(stage, event)


def qualify(key: str) -> str:
    """``node_max`` → ``ecomctl:node_max`` (checked against the documented keys); ``aws:region`` as is."""
    if ":" in key:
        return key
    if config_key(key) is None:
        raise ConfigError(
            f"unknown configuration key {key!r}",
            hint="`ecomctl config keys` lists them; provider keys take their namespace, e.g. aws:region",
        )
    return f"{CONFIG_NAMESPACE}:{key}"


def _stage_outputs(stage: str, outputs: Mapping[str, Any], before: Sequence[StageOutputs] = ()) -> StageOutputs:
    """Plain values; secret are those Pulumi marks secret and those holding an earlier secret's value.

    Pulumi flags only top-level secrets: an output that nests a secret (a map holding a password)
    comes back unflagged, in plain text, so it is matched against the secrets known so far."""
    known = [s.values[k] for s in before for k in s.secret]
    known += [v.value for v in outputs.values() if v.secret]
    return StageOutputs(
        stage=stage,
        values={k: v.value for k, v in outputs.items()},
        secret=frozenset(k for k, v in outputs.items() if v.secret or _holds(v.value, known)),
    )


def _holds(value: Any, secrets: Sequence[Any]) -> bool:
    if any(value == s for s in secrets if s not in (None, "")):
        return True
    if isinstance(value, Mapping):
        return any(_holds(v, secrets) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds(v, secrets) for v in value)
    return False
