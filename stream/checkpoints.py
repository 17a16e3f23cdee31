"""Where the job keeps its checkpoints and savepoints, and which one a restart resumes from.

Layout under ``<state_dir>/flink/``: ``checkpoints/<job-id>/chk-<n>/_metadata`` (retained on
cancellation, the newest few per run), ``savepoints/savepoint-*/_metadata`` (taken on SIGTERM when
possible), ``plans/`` (the compiled plan, see ``stream.job.plan_file``), ``secrets/`` (the Kafka
password file while the launcher runs, see ``stream.kafka_secret``), ``status.json`` (see
``stream.status``). Stdlib only.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

METADATA = "_metadata"


@dataclass(frozen=True)
class StateLayout:
    root: Path  # <state_dir>/flink

    @classmethod
    def under(cls, state_dir: Path) -> StateLayout:
        return cls(state_dir / "flink")

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def savepoints(self) -> Path:
        return self.root / "savepoints"

    @property
    def set_aside_dir(self) -> Path:
        """Where state that no longer fits the job is kept (the last one only), for inspection."""
        return self.root / "set-aside"

    @property
    def plans(self) -> Path:
        """The job's compiled plan (``stream.job.plan_file``)."""
        return self.root / "plans"

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    def create(self) -> None:
        for path in (self.checkpoints, self.savepoints):
            path.mkdir(parents=True, exist_ok=True)


def _complete_points(layout: StateLayout) -> list[Path]:
    """Every checkpoint/savepoint directory whose metadata was written (a completed one)."""
    found = [m.parent for m in layout.checkpoints.glob(f"*/chk-*/{METADATA}")]
    found += [m.parent for m in layout.savepoints.glob(f"*/{METADATA}")]
    return found


def latest_restore_point(layout: StateLayout) -> Path | None:
    """The most recently completed checkpoint or savepoint, or None on a first start."""
    points = _complete_points(layout)
    if not points:
        return None
    return max(points, key=lambda p: (p / METADATA).stat().st_mtime_ns)


def prune(layout: StateLayout, keep: Path | None) -> list[Path]:
    """Delete earlier runs' checkpoint directories and savepoints except ``keep``'s; returns what went.

    Each hashmap-backend checkpoint is self-contained, so only the point we restore from matters.
    """
    removed: list[Path] = []
    keep_dirs = set() if keep is None else {keep, keep.parent}
    for parent in (layout.checkpoints, layout.savepoints):
        if not parent.is_dir():
            continue
        for child in parent.iterdir():
            if child in keep_dirs or not child.is_dir():
                continue
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child)
    return removed


def set_aside(layout: StateLayout) -> Path:
    """Move every checkpoint and savepoint out of the way (a job without state starts next).

    Used when the saved state no longer fits a changed job. Only the latest set-aside is kept.
    """
    target = layout.set_aside_dir / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    shutil.rmtree(layout.set_aside_dir, ignore_errors=True)
    target.mkdir(parents=True)
    for parent in (layout.checkpoints, layout.savepoints):
        if parent.is_dir():
            parent.rename(target / parent.name)
    layout.create()
    return target
