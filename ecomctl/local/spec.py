"""What the supervisor runs: one ``ComponentSpec`` per process of the local stack."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str = ""


Probe = Callable[[], ProbeResult]


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    kind: str  # "store" | "service" | "worker" | "stream"
    requires: tuple[str, ...]  # components that must be healthy (and provisioned) before it starts
    command: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path
    probe: Probe = field(compare=False)
    ports: tuple[int, ...] = ()
    url: str | None = None
    start_seconds: int = 1
    stop_wait_seconds: int = 10
    description: str = ""
    provision: Callable[[], None] | None = field(default=None, compare=False)
    """Run once the component is healthy, before its dependents start (idempotent)."""
