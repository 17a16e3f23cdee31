"""The real job on real Kafka: exact per-window, per-product and per-user figures.

Three short windows (the size comes from WINDOW_SECONDS), events out of order within the watermark
bound, a redelivered duplicate, a cancellation, malformed messages, a late event; the last window
must close with no traffic after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stream.setup import FlinkRuntime
from tests.stream.harness import (
    Order,
    PrivateJob,
    next_boundary,
    produce,
    produce_raw,
    product_row,
    read_all,
    sleep_until,
    user_row,
    wait_for_key,
    window_row,
)

pytestmark = [pytest.mark.stream, pytest.mark.slow]
W = 6  # window seconds
DELAY = 2  # watermark delay


@pytest.fixture(name="job")
def fx_job(flink_runtime: FlinkRuntime, kafka_bootstrap: str, tmp_path: Path) -> Iterator[PrivateJob]:
    job = PrivateJob(flink_runtime, kafka_bootstrap, tmp_path / "state", window_s=W, delay_s=DELAY, idle_s=2)
    job.create_topics()
    try:
        job.start()
        yield job
    finally:
        job.cleanup()


def test_three_windows_exact_figures(job: PrivateJob) -> None:
    s = timedelta(seconds=1)
    w0 = next_boundary(W, margin_s=1.0)
    w1, w2 = w0 + W * s, w0 + 2 * W * s
    a = Order("u1", [("p1", 2, "10.00"), ("p2", 1, "5.50")])
    b = Order("u2", [("p1", 1, "10.00")])
    c = Order("u1", [("p3", 3, "1.25")])
    d = Order("u3", [("p2", 2, "5.50")])
    e = Order("u1", [("p1", 1, "10.00")])
    late = Order("u9", [("p9", 9, "9.00")])

    sleep_until(w0 + 1.5 * s)
    b_created = b.event("order.created", w0 + 0.3 * s)
    produce(job.bootstrap, job.source, [
        a.event("order.created", w0 + 1.2 * s),
        b_created,  # 0.9 s older than the event before it: out of order, within the bound
        c.event("order.created", w0 + 0.8 * s),
        b_created,  # redelivered by the outbox relay: same event_id
    ])

    sleep_until(w1 + 1.5 * s)
    produce(job.bootstrap, job.source, [
        b.event("order.cancelled", w1 + 1.0 * s),
        d.event("order.created", w1 + 0.5 * s),
    ])
    produce_raw(job.bootstrap, job.source, [
        (b"x", b"not json at all"),
        (b"y", b'{"event_id": "e-no-time", "type": "order.created", "order_id": "y", "user_id": "u1",'
               b' "items": [{"product_id": "p1", "quantity": 1, "unit_price": "1.00"}], "total": "1.00"}'),
        (b"z", b'{"event_id": "e-bad-total", "type": "order.created", "occurred_at": "'
               + (w1 + 1.2 * s).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
               + b'", "order_id": "z", "user_id": "u1", "items": [], "total": "abc"}'),
    ])

    sleep_until(w2 + 1.5 * s)
    produce(job.bootstrap, job.source, [
        e.event("order.created", w2 + 1.0 * s),
        late.event("order.created", w0 + 2.0 * s),  # window 0 closed long ago: dropped as late
    ])

    # no traffic after the last window: it must still close, soon after end + watermark delay
    last_key = window_row(w2, W, orders=0, units=0, revenue="", unique_users=0, cancelled=0)[0]
    budget = (w2 + W * s + DELAY * s - datetime.now(UTC)).total_seconds() + 5
    wait_for_key(job.bootstrap, job.sink, last_key, timeout_s=budget)
    closed_at = datetime.now(UTC)
    assert (closed_at - (w2 + W * s)).total_seconds() <= DELAY + 5

    records = read_all(job.bootstrap, job.sink)
    expected = dict([
        window_row(w0, W, orders=3, units=7, revenue="39.25", unique_users=2, cancelled=0),
        product_row(w0, W, "p1", 3, "30.00"),
        product_row(w0, W, "p2", 1, "5.50"),
        product_row(w0, W, "p3", 3, "3.75"),
        user_row(w0, W, "u1", 2, "29.25"),
        user_row(w0, W, "u2", 1, "10.00"),
        # the cancellation counts in its own window: -1 unit, -10.00, +1 cancelled order
        window_row(w1, W, orders=1, units=1, revenue="1.00", unique_users=1, cancelled=1),
        product_row(w1, W, "p1", -1, "-10.00"),
        product_row(w1, W, "p2", 2, "11.00"),
        user_row(w1, W, "u2", 0, "-10.00"),
        user_row(w1, W, "u3", 1, "11.00"),
        window_row(w2, W, orders=1, units=1, revenue="10.00", unique_users=1, cancelled=0),
        product_row(w2, W, "p1", 1, "10.00"),
        user_row(w2, W, "u1", 1, "10.00"),
    ])
    assert dict(records) == expected
    assert len(records) == len(expected)  # each result emitted exactly once without restarts
    assert job.process is not None and job.process.poll() is None, job.log_tail()
