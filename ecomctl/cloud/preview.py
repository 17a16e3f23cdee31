"""The offline preview as one report: resources, policy violations, cost (what ``--json`` prints).

The stack's configuration comes from the same place ``up`` reads it: the ``ecomctl:*`` values in
the stack's Pulumi config file (``ecomctl config set`` writes them). Reading plain values needs
no Pulumi CLI; encrypted (secret) values are not needed to evaluate the programs and are skipped.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecomctl.cloud.cost import Estimate, estimate
from ecomctl.cloud.offline import Resource, run_offline
from ecomctl.cloud.policy import RULES, Violation, evaluate
from ecomctl.cloud.programs import load_programs
from ecomctl.cloud.stages import StageLike, platform_stages
from ecomctl.cloud.workspace import CloudSettings
from ecomctl.errors import ConfigError

CONFIG_NAMESPACE = "ecomctl"
_SHOWN_KEYS = (
    "instanceClass", "instanceType", "instanceTypes", "allocatedStorage", "multiAz", "storageEncrypted",
    "publiclyAccessible", "engine", "engineVersion", "version", "scalingConfig", "numberOfBrokerNodes",
    "kafkaVersion", "billingMode", "cidrBlock", "ipCidrRange", "machineType", "region", "replicas",
    "image", "runtime", "memorySize", "backupRetentionPeriod", "deletionProtection",
)


@dataclass(frozen=True)
class PreviewReport:
    stack: str
    resources: tuple[Resource, ...]
    violations: tuple[Violation, ...]
    cost: Estimate
    config: Mapping[str, Any]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "offline": True,
            "resources": [
                {"type": r.type, "name": r.name, "stage": r.stage, "settings": key_settings(r)}
                for r in self.resources
            ],
            "violations": [v.as_dict() for v in self.violations],
            "rules": [{"name": r.name, "category": r.category, "description": r.description} for r in RULES],
            "cost": self.cost.as_dict(),
            "config": dict(self.config),
            "seconds": round(self.seconds, 2),
        }


def offline_preview(stack: str, stages: Sequence[StageLike] | None = None,
                    environ: Mapping[str, str] | None = None) -> PreviewReport:
    started = time.monotonic()
    settings = CloudSettings.load(stack, environ)
    overrides = stack_overrides(settings)
    try:
        config = load_programs().config(stack, overrides)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"stack {stack!r} has an invalid configuration: {exc}",
                          hint=f"ecomctl config list --stack {stack}") from None
    run = run_offline(stages if stages is not None else platform_stages(), config, stack)
    return PreviewReport(
        stack=stack,
        resources=run.resources,
        violations=tuple(evaluate(run.resources)),
        cost=estimate(run.resources),
        config=overrides,
        seconds=time.monotonic() - started,
    )


def stack_overrides(settings: CloudSettings) -> dict[str, Any]:
    """The stack's plain ``ecomctl:*`` config values as ``ProgramConfig`` fields."""
    programs = load_programs()
    raw = read_stack_config(settings.work_dir("aws") / f"Pulumi.{settings.stack}.yaml")
    keys = {k.name: k for k in programs.config_keys}
    values: dict[str, Any] = {}
    for full, value in raw.items():
        namespace, _, name = full.partition(":")
        if namespace != CONFIG_NAMESPACE or isinstance(value, Mapping) or name not in keys:
            continue
        try:
            values[name] = programs.parse_value(keys[name], str(value))
        except ValueError:
            raise ConfigError(f"config {full}={value!r} is not a valid {keys[name].type}",
                              hint=f"ecomctl config set {name} <value> --stack {settings.stack}") from None
    return values


def read_stack_config(path: Path) -> dict[str, Any]:
    """The ``config:`` mapping of a Pulumi stack settings file (empty when there is none)."""
    if not path.exists():
        return {}
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = doc.get("config") or {}
    return dict(config) if isinstance(config, Mapping) else {}


def key_settings(resource: Resource) -> dict[str, Any]:
    """The few inputs that say what a resource is (size, version, exposure), for the listing."""
    shown = {k: resource.inputs[k] for k in _SHOWN_KEYS if k in resource.inputs}
    if resource.type.startswith("kubernetes:"):
        spec = resource.inputs.get("spec")
        if isinstance(spec, Mapping) and "replicas" in spec:
            shown["replicas"] = spec["replicas"]
        containers = resource.get("spec.template.spec.containers") or []
        images = [c.get("image") for c in containers if isinstance(c, Mapping) and c.get("image")]
        if images:
            shown["images"] = images
    return shown
