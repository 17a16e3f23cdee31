"""Restore-point discovery, pruning, the Flink configuration and the status file."""

from __future__ import annotations

import os
import time
from pathlib import Path

from stream.checkpoints import StateLayout, latest_restore_point, prune, set_aside
from stream.flinkconf import flink_config
from stream.settings import JobSettings
from stream.status import is_running, write_status

SETTINGS = JobSettings("b:1", "src", "sink", "g", checkpoint_interval_s=7, idle_timeout_s=3, parallelism=2)


def complete(point: Path, mtime: float) -> Path:
    point.mkdir(parents=True)
    (point / "_metadata").write_bytes(b"x")
    os.utime(point / "_metadata", (mtime, mtime))
    return point


def test_latest_complete_point_wins(tmp_path: Path) -> None:
    layout = StateLayout.under(tmp_path)
    layout.create()
    assert latest_restore_point(layout) is None
    old = complete(layout.checkpoints / "job-a" / "chk-4", 1000)
    newest = complete(layout.savepoints / "savepoint-a-1", 3000)
    complete(layout.checkpoints / "job-b" / "chk-9", 2000)
    (layout.checkpoints / "job-b" / "chk-10").mkdir()  # in progress: no _metadata
    assert latest_restore_point(layout) == newest
    assert old.exists()


def test_prune_keeps_only_the_restore_point(tmp_path: Path) -> None:
    layout = StateLayout.under(tmp_path)
    keep = complete(layout.checkpoints / "job-b" / "chk-9", 2000)
    complete(layout.checkpoints / "job-a" / "chk-4", 1000)
    complete(layout.savepoints / "savepoint-x", 500)
    removed = prune(layout, keep)
    assert sorted(p.name for p in removed) == ["job-a", "savepoint-x"]
    assert keep.exists() and latest_restore_point(layout) == keep


def test_state_that_no_longer_fits_is_set_aside_and_the_next_start_has_none(tmp_path: Path) -> None:
    layout = StateLayout.under(tmp_path)
    complete(layout.checkpoints / "job-a" / "chk-4", 1000)
    complete(layout.savepoints / "savepoint-a-1", 2000)
    first = set_aside(layout)
    assert latest_restore_point(layout) is None  # the next start begins without state
    assert (first / "savepoints" / "savepoint-a-1" / "_metadata").is_file()  # kept for inspection
    assert layout.checkpoints.is_dir() and layout.savepoints.is_dir()
    complete(layout.checkpoints / "job-b" / "chk-1", 3000)
    second = set_aside(layout)
    kept = sorted(p.relative_to(layout.set_aside_dir) for p in layout.set_aside_dir.glob("*/*/*"))
    assert kept == [second.relative_to(layout.set_aside_dir) / "checkpoints" / "job-b"]  # the last one only


def test_config_portable_keys_and_restore(tmp_path: Path) -> None:
    layout = StateLayout.under(tmp_path)
    fresh = flink_config(SETTINGS, layout, None)
    assert "execution.savepoint.path" not in fresh
    assert fresh["execution.checkpointing.interval"] == "7 s"
    assert fresh["table.exec.source.idle-timeout"] == "3 s"
    assert fresh["parallelism.default"] == "2"
    assert fresh["table.local-time-zone"] == "UTC"
    assert fresh["execution.checkpointing.externalized-checkpoint-retention"] == "RETAIN_ON_CANCELLATION"
    assert fresh["state.checkpoints.dir"] == layout.checkpoints.resolve().as_uri()
    point = layout.checkpoints / "j" / "chk-3"
    assert flink_config(SETTINGS, layout, point)["execution.savepoint.path"] == point.resolve().as_uri()


def test_status_file_health(tmp_path: Path) -> None:
    path = tmp_path / "flink" / "status.json"
    assert not is_running(path)
    write_status(path, "STARTING")
    assert not is_running(path)
    write_status(path, "RUNNING", job_id="abc")
    assert is_running(path)
    assert not is_running(path, now=time.time() + 60)  # stale: the job process stopped writing
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert not is_running(path)  # its process is gone
