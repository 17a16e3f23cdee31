"""Where the job keeps its compiled plan: the file is named by what shapes the plan.

Flink's own ``COMPILE PLAN`` / ``EXECUTE PLAN`` write and run it; the job's use of it runs in
test_job_restart (the restarts execute the plan the first start compiled).
"""

from __future__ import annotations

from pathlib import Path

from stream.job import plan_file
from stream.settings import JobSettings

SETTINGS = JobSettings("127.0.0.1:9092", "orders-events", "analytics-results", "g")
CONFIG = {"parallelism.default": "1", "table.local-time-zone": "UTC"}
PLANS = Path("/state/flink/plans")


def test_the_restore_point_and_the_brokers_do_not_name_a_new_plan() -> None:
    base = plan_file(PLANS, "2.2.1", SETTINGS, CONFIG)
    assert base.parent == PLANS and base.name.startswith("plan-") and base.suffix == ".json"
    assert plan_file(PLANS, "2.2.1", SETTINGS, {**CONFIG, "execution.savepoint.path": "file:/x"}) == base
    assert plan_file(PLANS, "2.2.1", SETTINGS, dict(reversed(list(CONFIG.items())))) == base


def test_what_shapes_the_plan_names_a_new_one() -> None:
    base = plan_file(PLANS, "2.2.1", SETTINGS, CONFIG)
    assert plan_file(PLANS, "1.17.2", SETTINGS, CONFIG) != base
    assert plan_file(PLANS, "2.2.1", SETTINGS, {**CONFIG, "parallelism.default": "2"}) != base
    shorter = JobSettings("127.0.0.1:9092", "orders-events", "analytics-results", "g", window_seconds=30)
    assert plan_file(PLANS, "2.2.1", shorter, CONFIG) != base
