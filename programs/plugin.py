"""What ``ecomctl`` needs of the programs, as one object it finds through an entry point.

``ecomctl`` never imports this package: ``pyproject.toml`` registers ``PROGRAMS`` under the
``ecomctl.programs`` entry-point group and ``ecomctl.cloud.programs.load_programs()`` loads it.
The object offers the stages, the configuration keys and their parsing, the stack's
configuration (built from overrides or read inside a running Pulumi program) and the
manifests ``ecomctl render`` writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blueprint.topology import TOPOLOGY
from programs.config import CONFIG_KEYS, ConfigKey, ProgramConfig, parse_value
from programs.platform import STAGES, Stage


@dataclass(frozen=True)
class Programs:
    stages: tuple[Stage, ...] = STAGES
    config_keys: tuple[ConfigKey, ...] = CONFIG_KEYS

    def config(self, stack: str, overrides: Mapping[str, Any]) -> ProgramConfig:
        """The stack's configuration: its defaults, then ``overrides`` (parsed values)."""
        return ProgramConfig.for_stack(stack, **overrides)

    def pulumi_config(self) -> ProgramConfig:
        """The configuration of the Pulumi stack whose program is running."""
        return ProgramConfig.from_pulumi_config()

    def parse_value(self, key: ConfigKey, raw: str) -> Any:
        return parse_value(key, raw)

    def write_manifests(self, cfg: ProgramConfig, out: Path, aws_outputs: Mapping[str, Any] | None,
                        registry: str) -> list[Path]:
        """The Kubernetes manifests: from a deployed stack's aws outputs, else named under ``registry``."""
        from programs.manifests import ManifestValues, write_manifests

        if aws_outputs is not None:
            values = ManifestValues.from_stack(cfg, aws_outputs)
        else:
            values = ManifestValues(
                image_repositories={
                    s.name: f"{registry.rstrip('/')}/{cfg.physical_name(s.name)}" for s in TOPOLOGY.services
                },
                image_tag=cfg.image_tag,
            )
        return write_manifests(TOPOLOGY, out, values)


PROGRAMS = Programs()
