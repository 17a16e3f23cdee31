"""The job's compiled plan, kept between starts (stdlib only, unit-tested).

Optimising the job's SQL is most of its start-up work (about 6 CPU-seconds of the client JVM on
this machine: Calcite's rule sets run interpreted or barely compiled). Flink can write the result
as a *compiled plan* (JSON) and execute it later without optimising again; this module names and
keeps that plan. ``stream.job`` compiles it on a first start and loads it on every later one.

The key is a digest of everything that shapes the plan: the Flink version, the statements (tables,
views, INSERTs) and the job's configuration, except what changes between starts without changing
the plan (the restore point; the heartbeat's grace deadline, which the caller replaces by a fixed
value: it is an option of a temporary table, and a compiled plan keeps only the identifiers of
temporary tables, reading their options at each start). A changed job therefore gets a new key and
is planned again; the plan of the previous version is deleted when the new one is stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Configuration that differs between starts of the same job and does not shape its plan.
START_ONLY_KEYS = frozenset({"execution.savepoint.path"})
PREFIX = "plan-"
SUFFIX = ".json"


def plan_key(flink_version: str, statements: Sequence[str], config: Mapping[str, str]) -> str:
    """The digest a compiled plan is stored under (hex, 64 characters)."""
    planned = {k: v for k, v in sorted(config.items()) if k not in START_ONLY_KEYS}
    body = json.dumps({"flink": flink_version, "statements": list(statements), "config": planned},
                      sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class PlanCache:
    """One directory holding the current plan, ``plan-<key>.json``."""

    directory: Path

    def path(self, key: str) -> Path:
        return self.directory / f"{PREFIX}{key}{SUFFIX}"

    def load(self, key: str) -> str | None:
        """The stored plan for ``key``, or None when there is none (or it cannot be read)."""
        try:
            return self.path(key).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def store(self, key: str, plan_json: str) -> Path:
        """Write the plan atomically (a reader sees the whole file or none) and drop older plans."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.path(key)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".plan-", suffix=".part")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(plan_json)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        for other in self.directory.glob(f"{PREFIX}*{SUFFIX}"):
            if other != target:
                with contextlib.suppress(OSError):
                    other.unlink()
        return target

    def discard(self, key: str) -> None:
        """Forget a plan that could not be used (Flink refused to load or run it)."""
        with contextlib.suppress(OSError):
            self.path(key).unlink()
