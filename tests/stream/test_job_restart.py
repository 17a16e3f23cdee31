"""A crash mid-stream (SIGKILL of the job's process group) and a restart from the last checkpoint:
nothing is counted twice, and a SIGTERM stop leaves a savepoint the next start resumes from. The
restarts execute the compiled plan the first start kept (``stream.job.plan_file``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stream.setup import FlinkRuntime
from tests.stream.harness import (
    Order,
    PrivateJob,
    model,
    next_boundary,
    produce,
    read_all,
    sleep_until,
    wait_for_key,
    window_row,
    window_start,
)

pytestmark = [pytest.mark.stream, pytest.mark.slow, pytest.mark.timeout(900)]  # three job starts
W = 20


@pytest.fixture(name="job")
def fx_job(flink_runtime: FlinkRuntime, kafka_bootstrap: str, tmp_path: Path) -> Iterator[PrivateJob]:
    job = PrivateJob(flink_runtime, kafka_bootstrap, tmp_path / "state", window_s=W, delay_s=2, idle_s=2,
                     checkpoint_s=2)
    job.create_topics()
    try:
        job.start()
        yield job
    finally:
        job.cleanup()


def now() -> datetime:
    return datetime.now(UTC)


def test_crash_and_restart_count_nothing_twice(job: PrivateJob) -> None:
    sleep_until(next_boundary(W, margin_s=1.0) + timedelta(seconds=0.3))
    orders = [Order(f"u{i % 3}", [(f"p{i % 4}", 1 + i % 3, f"{2 + i}.25")]) for i in range(12)]
    events = [o.event("order.created", now() - timedelta(seconds=0.2)) for o in orders[:6]]
    produced_at = time.time()
    produce(job.bootstrap, job.source, events)

    # a checkpoint that includes those events completes...
    deadline = time.monotonic() + 20
    while not [p for p in job.completed_checkpoints() if p.stat().st_mtime > produced_at + 0.5]:
        assert time.monotonic() < deadline, job.log_tail()
        time.sleep(0.2)
    # ...then more events (and a cancellation), which only Kafka holds when the job dies
    more = [o.event("order.created", now()) for o in orders[6:9]]
    more.append(orders[0].event("order.cancelled", now()))
    produce(job.bootstrap, job.source, more)
    events += more
    time.sleep(1.0)
    job.kill()

    # the first start planned the SQL and kept the compiled plan; the restart runs that plan
    plans = list((job.state_dir / "flink" / "plans").glob("plan-*.json"))
    assert len(plans) == 1, job.log_tail()
    assert job.log_path is not None and "planned the SQL" in job.log_path.read_text()
    job.start()
    status = json.loads((job.state_dir / "flink" / "status.json").read_text())
    assert "/checkpoints/" in status["restored_from"]
    assert f"running the compiled plan {plans[0].name} of an earlier start" in job.log_tail(200)
    assert job.log_path.read_text().count("planned the SQL") == 1  # the restart did not plan again
    last = [o.event("order.created", now()) for o in orders[9:]]
    produce(job.bootstrap, job.source, last)
    events += last

    last_start = window_start(datetime.strptime(last[-1]["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                              .replace(tzinfo=UTC), W)
    last_key = window_row(last_start, W, orders=0, units=0, revenue="", unique_users=0, cancelled=0)[0]
    budget = (last_start + timedelta(seconds=W + 2) - now()).total_seconds() + 30
    wait_for_key(job.bootstrap, job.sink, last_key, timeout_s=budget)

    records = read_all(job.bootstrap, job.sink)
    assert dict(records) == model(events, W)
    # a window re-emitted after the restart carries exactly the same figures (never a sum)
    for key, value in records:
        assert value == dict(records)[key], key

    # SIGTERM, as the supervisor stops it: a savepoint, then the next start resumes from it
    assert job.stop() == 0, job.log_tail()
    assert list((job.state_dir / "flink" / "savepoints").glob("*/_metadata")), job.log_tail()
    assert json.loads((job.state_dir / "flink" / "status.json").read_text())["state"] == "STOPPED"
    job.start()
    status = json.loads((job.state_dir / "flink" / "status.json").read_text())
    assert "/savepoints/" in status["restored_from"]
