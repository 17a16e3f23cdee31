"""The job's status file: written by ``stream/job.py`` every few seconds, read by ``is_healthy``.

Stdlib only. ``{"state": "STARTING"|"RUNNING"|..., "pid": int, "job_id": str|null,
"restored_from": str|null, "updated_at": float (epoch seconds)}``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

STALE_AFTER_S = 20.0


def write_status(path: Path, state: str, *, job_id: str | None = None,
                 restored_from: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({
        "state": state, "pid": os.getpid(), "job_id": job_id,
        "restored_from": restored_from, "updated_at": time.time(),
    }))
    tmp.replace(path)


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped (a zombie) still answers kill(0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def is_running(path: Path, now: float | None = None) -> bool:
    """The job is submitted and RUNNING, its process is alive and the file is fresh."""
    status = read_status(path)
    if status is None or status.get("state") != "RUNNING" or not _alive(status.get("pid")):
        return False
    updated = status.get("updated_at")
    if not isinstance(updated, (int, float)):
        return False
    return (time.time() if now is None else now) - updated <= STALE_AFTER_S
