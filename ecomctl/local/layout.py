"""Where a local stack keeps its things: one directory per stack under the state root."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path  # <state root>/local

    @property
    def data(self) -> Path:
        """Everything ``down --purge`` deletes besides logs: databases, topics, objects."""
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        """Runtime files: supervisord config/pid, per-component env files."""
        return self.root / "run"

    @property
    def secrets_file(self) -> Path:
        return self.root / "secrets.json"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def supervisor_conf(self) -> Path:
        return self.run / "supervisord.conf"

    @property
    def supervisor_pid(self) -> Path:
        return self.run / "supervisord.pid"

    @property
    def supervisor_log(self) -> Path:
        return self.logs / "supervisord.log"

    @property
    def supervisor_socket(self) -> Path:
        return self.socket("supervisor")

    def socket(self, name: str) -> Path:
        """A unix socket path short enough for AF_UNIX (108 bytes), under run/ when possible."""
        path = self.run / f"{name}.sock"
        if len(str(path)) < 100:
            return path
        digest = hashlib.sha1(str(self.root).encode()).hexdigest()[:12]
        return Path("/tmp") / f"ecomctl-{digest}-{name}.sock"

    def component_data(self, name: str) -> Path:
        return self.data / name

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def env_file(self, name: str) -> Path:
        return self.run / f"{name}.env.json"

    def ensure(self) -> None:
        for path in (self.root, self.data, self.logs, self.run):
            path.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
