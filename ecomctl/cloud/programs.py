"""The Pulumi programs, found through the ``ecomctl.programs`` entry point (never imported).

``ecomctl`` and ``programs`` do not import each other (docs/architecture.md, "Layers"): the
programs package registers one object under this group in ``pyproject.toml``, and this module
loads it by name and describes, as protocols, what the engine, the preview and ``render`` use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from ecomctl.errors import PrerequisiteError

GROUP = "ecomctl.programs"


class StageLike(Protocol):
    """One stage of a cloud stack (``programs.platform.Stage`` satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def program(self) -> Callable[[Any, Mapping[str, Any]], None]: ...


class ConfigKeyLike(Protocol):
    """One documented ``ecomctl:<name>`` key."""

    @property
    def name(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def default(self) -> Any: ...

    @property
    def secret(self) -> bool: ...

    @property
    def help(self) -> str: ...


class Programs(Protocol):
    """What ``programs.plugin.PROGRAMS`` offers."""

    @property
    def stages(self) -> Sequence[StageLike]: ...

    @property
    def config_keys(self) -> Sequence[ConfigKeyLike]: ...

    def config(self, stack: str, overrides: Mapping[str, Any]) -> Any: ...

    def pulumi_config(self) -> Any: ...

    def parse_value(self, key: Any, raw: str) -> Any: ...

    def write_manifests(self, cfg: Any, out: Path, aws_outputs: Mapping[str, Any] | None,
                        registry: str) -> list[Path]: ...


@functools.cache
def load_programs() -> Programs:
    """The installed programs (the one entry point of the group)."""
    found = list(entry_points(group=GROUP))
    if not found:
        raise PrerequisiteError(f"no Pulumi programs are installed (no {GROUP!r} entry point)",
                                hint="reinstall ecomctl with its programs: bin/bootstrap")
    programs: Programs = found[0].load()
    return programs


def config_key(name: str) -> ConfigKeyLike | None:
    return next((k for k in load_programs().config_keys if k.name == name), None)
