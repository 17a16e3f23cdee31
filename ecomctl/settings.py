"""CLI settings: where state lives, which ports the local stack binds, which Java to use.

Built once at the edge (``Settings.load()``) from ``ECOMCTL_*`` environment variables, then
passed down. Nothing here is read at import time.

==========================  ===================================  ================================
variable                    meaning                              default
==========================  ===================================  ================================
``ECOMCTL_STATE_DIR``       state of the local stack (data,      ``$XDG_STATE_HOME/ecomctl`` or
                            logs, credentials, supervisor)       ``~/.local/state/ecomctl``
``ECOMCTL_CACHE_DIR``       downloads shared by every stack      ``$XDG_CACHE_HOME/ecomctl`` or
                            (Kafka and DynamoDB Local jars)      ``~/.cache/ecomctl``
``ECOMCTL_PORT_OFFSET``     added to every local port            ``0``
``ECOMCTL_PORT_<NAME>``     one component's port (before the     see ``DEFAULT_PORTS``
                            offset), e.g. ``ECOMCTL_PORT_KAFKA``
``ECOMCTL_JAVA_HOME``       the JDK (17+) for Kafka, DynamoDB    ``JAVA_HOME`` if it is 17+, else
                            Local and Flink                      the newest ``/usr/lib/jvm/*17*``
``ECOMCTL_READY_TIMEOUT``   seconds ``up`` waits for health      ``300``
==========================  ===================================  ================================
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from blueprint.topology import TOPOLOGY, env_suffix
from ecomctl.errors import ConfigError, PrerequisiteError

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Local ports before the offset: infrastructure here, services from the topology.
DEFAULT_PORTS: dict[str, int] = {
    "mariadb": 13306,
    "kafka": 19092,
    "kafka-controller": 19093,
    "dynamodb": 14568,
    "awsapi": 14566,
    "prometheus": 19090,
    **{s.name: s.port for s in TOPOLOGY.services},
    **{w.name: w.metrics_port for w in TOPOLOGY.workers if w.metrics_port is not None},
}

LOCAL_STACK = "local"


@dataclass(frozen=True)
class Settings:
    state_root: Path
    cache_dir: Path
    ports: Mapping[str, int]
    java_home_override: str | None = None
    ready_timeout_s: float = 300.0
    repo_root: Path = field(default=REPO_ROOT)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("HOME", str(Path.home())))
        state = env.get("ECOMCTL_STATE_DIR") or str(
            Path(env.get("XDG_STATE_HOME") or home / ".local" / "state") / "ecomctl"
        )
        cache = env.get("ECOMCTL_CACHE_DIR") or str(
            Path(env.get("XDG_CACHE_HOME") or home / ".cache") / "ecomctl"
        )
        offset = _int(env, "ECOMCTL_PORT_OFFSET", 0)
        ports: dict[str, int] = {}
        for name, default in DEFAULT_PORTS.items():
            port = _int(env, f"ECOMCTL_PORT_{env_suffix(name)}", default) + offset
            if not 1 <= port <= 65535:
                raise ConfigError(
                    f"port for {name} is {port}, outside 1-65535",
                    hint="lower ECOMCTL_PORT_OFFSET or the component's ECOMCTL_PORT_* value",
                )
            ports[name] = port
        dup = {p for p in ports.values() if list(ports.values()).count(p) > 1}
        if dup:
            clash = sorted(n for n, p in ports.items() if p in dup)
            raise ConfigError(f"two components would bind the same port: {', '.join(clash)}")
        return cls(
            state_root=Path(state).expanduser(),
            cache_dir=Path(cache).expanduser(),
            ports=ports,
            java_home_override=env.get("ECOMCTL_JAVA_HOME") or None,
            ready_timeout_s=float(_int(env, "ECOMCTL_READY_TIMEOUT", 300)),
        )

    def stack_dir(self, stack: str = LOCAL_STACK) -> Path:
        """State of one stack: ``<state root>/<stack>``."""
        return self.state_root / stack

    def java_home(self) -> Path:
        """A JDK of version 17 or newer (Kafka 4 and Flink 2 need 17)."""
        return find_java_home(self.java_home_override, os.environ.get("JAVA_HOME"))


@functools.lru_cache(maxsize=8)
def find_java_home(override: str | None, java_home_env: str | None) -> Path:
    """``override``, else ``JAVA_HOME``, else a Java 17 under /usr/lib/jvm; it must be 17+."""
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    if java_home_env:
        candidates.append(Path(java_home_env))
    jvm = Path("/usr/lib/jvm")
    if jvm.is_dir():
        candidates += sorted(p for p in jvm.iterdir() if re.search(r"(java|jdk)-?17", p.name))
    for home in candidates:
        java = home / "bin" / "java"
        if java.exists() and _java_major(java) >= 17:
            return home
    raise PrerequisiteError(
        "no Java 17+ found",
        hint="apt-get install -y openjdk-17-jdk-headless (or set ECOMCTL_JAVA_HOME to a JDK 17)",
    )


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not an integer") from None


def _java_major(java: Path) -> int:
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=20
        ).stderr
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        return 0
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major
