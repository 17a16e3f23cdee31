"""The compiled plan's key and store (stdlib; the job's use of it runs in test_job_restart)."""

from __future__ import annotations

import threading
from pathlib import Path

from stream.checkpoints import StateLayout
from stream.job import _planned_statements
from stream.plan_cache import PlanCache, plan_key
from stream.settings import JobSettings

SETTINGS = JobSettings("127.0.0.1:9092", "orders-events", "analytics-results", "g")
CONFIG = {"parallelism.default": "1", "table.local-time-zone": "UTC"}


def test_key_ignores_the_restore_point_but_not_the_plan_inputs() -> None:
    base = plan_key("2.2.1", ["a", "b"], CONFIG)
    assert plan_key("2.2.1", ["a", "b"], {**CONFIG, "execution.savepoint.path": "file:/x"}) == base
    assert plan_key("2.2.1", ["a", "b"], dict(reversed(list(CONFIG.items())))) == base
    assert plan_key("1.17.2", ["a", "b"], CONFIG) != base
    assert plan_key("2.2.1", ["a", "c"], CONFIG) != base
    assert plan_key("2.2.1", ["ab"], CONFIG) != base  # statements are not simply joined
    assert plan_key("2.2.1", ["a", "b"], {**CONFIG, "parallelism.default": "2"}) != base


def test_planned_statements_do_not_depend_on_the_start_time() -> None:
    statements = _planned_statements(SETTINGS)
    assert statements == _planned_statements(SETTINGS)
    assert any("CREATE TEMPORARY TABLE heartbeat" in s for s in statements)
    assert any(s.startswith("INSERT INTO window_results") for s in statements)
    changed = JobSettings("127.0.0.1:9092", "orders-events", "analytics-results", "g", window_seconds=30)
    assert _planned_statements(changed) != statements


def test_store_load_replace_and_discard(tmp_path: Path) -> None:
    cache = PlanCache(StateLayout.under(tmp_path).plans)
    assert cache.load("k1") is None
    first = cache.store("k1", '{"plan": 1}')
    assert first.parent == tmp_path / "flink" / "plans"
    assert cache.load("k1") == '{"plan": 1}'
    cache.store("k2", '{"plan": 2}')  # a changed job: the old plan goes
    assert cache.load("k1") is None
    assert cache.load("k2") == '{"plan": 2}'
    assert sorted(p.name for p in cache.directory.iterdir()) == ["plan-k2.json"]
    cache.discard("k2")
    cache.discard("k2")  # twice is fine
    assert cache.load("k2") is None


def test_readers_never_see_a_partial_plan(tmp_path: Path) -> None:
    cache = PlanCache(tmp_path)
    big = '{"nodes": "' + "x" * 2_000_000 + '"}'
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            text = cache.load("k")
            if text is not None:
                seen.add(len(text))

    reader = threading.Thread(target=read)
    reader.start()
    for _ in range(20):
        cache.store("k", big)
    done.set()
    reader.join()
    assert seen <= {len(big)}
    assert not list(tmp_path.glob(".plan-*"))  # no temporary file left behind
