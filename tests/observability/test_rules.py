"""The rules as Prometheus itself reads them: ``promtool check`` and ``promtool test rules``.

Every alert has a case where a synthetic series makes it fire (with the labels and the summary a
person reads) and one where a similar series leaves it quiet; the test fails when an alert lacks
either. The cloud's PrometheusRule carries exactly the local rule file's groups.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from blueprint import observability as obs
from blueprint.topology import TOPOLOGY
from ecomctl.local import prometheus
from ecomctl.local.context import LocalContext
from ecomctl.secrets import StackSecrets
from ecomctl.settings import Settings
from programs import manifests as m

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: apt-get install -y prometheus")

ORDERS = {"job": "orders", "instance": "127.0.0.1:8003"}
REQ = 'http_requests_total{job="orders",route="/api/orders",method="POST",status="%s"}'
BUCKET = 'http_request_duration_seconds_bucket{job="products",route="/api/products",method="GET",le="%s"}'
LAG = 'kafka_consumer_lag{job="notifications",group="notifications-consumer",topic="orders-events",partition="0"}'


def _case(series: dict[str, str], alert: str, at: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": "10s",
            "input_series": [{"series": s, "values": v} for s, v in series.items()],
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": expected}]}


def _fires(labels: dict[str, str], summary: str) -> list[dict[str, Any]]:
    return [{"exp_labels": labels, "exp_annotations": {"summary": summary}}]


# alert -> (firing case, quiet case)
CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "ComponentDown": (
        _case({'up{job="orders",instance="127.0.0.1:8003"}': "1 1 0x10"}, "ComponentDown", "70s",
              _fires({**ORDERS, "severity": "critical"},
                     "orders (127.0.0.1:8003) does not answer its /metrics scrape")),
        # down for 20 s only (one restart), under the 30 s window
        _case({'up{job="orders",instance="127.0.0.1:8003"}': "1 1 0 0 1x10"}, "ComponentDown", "70s", []),
    ),
    "ErrorBudgetBurn": (
        _case({REQ % "201": "0+60x40", REQ % "503": "0+15x40"}, "ErrorBudgetBurn", "5m",
              _fires({"job": "orders", "route": "/api/orders", "severity": "critical"},
                     "orders /api/orders: 20% of requests fail (fast burn of a 99 % SLO)")),
        # 1 % errors: within the budget
        _case({REQ % "201": "0+99x40", REQ % "503": "0+1x40"}, "ErrorBudgetBurn", "5m", []),
    ),
    "LatencySLOBurn": (
        _case({BUCKET % "0.5": "0+10x60", BUCKET % "1.0": "0+100x60", BUCKET % "+Inf": "0+100x60"},
              "LatencySLOBurn", "8m",
              _fires({"job": "products", "route": "/api/products", "severity": "warning"},
                     "products /api/products: p95 latency 972.2ms (target 0.5 s)")),
        _case({BUCKET % "0.1": "0+100x60", BUCKET % "0.5": "0+100x60", BUCKET % "+Inf": "0+100x60"},
              "LatencySLOBurn", "8m", []),
    ),
    "ConsumerLagGrowing": (
        # growing until 9m50s, then level for a while: the recorded group sum reads 600 whether the
        # rule groups were last evaluated at 9m50s or at 10m (promtool does not fix their order)
        _case({LAG: "0+10x58 600x21"}, "ConsumerLagGrowing", "10m",
              _fires({"job": "notifications", "group": "notifications-consumer", "topic": "orders-events",
                      "severity": "warning"},
                     "consumer group notifications-consumer is 600 messages behind on orders-events "
                     "and falling further behind")),
        # far behind but keeping up (a backlog being worked off at the producers' pace)
        _case({LAG: "500x80"}, "ConsumerLagGrowing", "10m", []),
    ),
    "OutboxBacklogOld": (
        _case({'outbox_oldest_age_seconds{job="orders",instance="127.0.0.1:8003"}': "0+10x30"},
              "OutboxBacklogOld", "3m",
              _fires({**ORDERS, "severity": "warning"}, "the oldest unpublished order event is 3m 0s old")),
        _case({'outbox_oldest_age_seconds{job="orders",instance="127.0.0.1:8003"}': "0 2 1 0x30"},
              "OutboxBacklogOld", "3m", []),
    ),
    "AnalyticsWindowsStalled": (
        _case({'analytics_last_window_stored_seconds{job="analytics"}': "0x60",
               'orders_created_total{job="orders"}': "0+5x60"}, "AnalyticsWindowsStalled", "5m",
              _fires({"severity": "warning"},
                     "orders are flowing but no analytics window was stored for 5m 0s")),
        # windows keep closing while orders flow
        _case({'analytics_last_window_stored_seconds{job="analytics"}': "0+10x60",
               'orders_created_total{job="orders"}': "0+5x60"}, "AnalyticsWindowsStalled", "5m", []),
    ),
    "UploadProcessingStuck": (
        _case({'upload_processing_failures_total{job="file-processor"}': "0+1x100",
               'uploads_processed_total{job="file-processor",status="ok"}': "0x100"},
              "UploadProcessingStuck", "12m",
              _fires({"severity": "warning"}, "uploads fail to process and none succeeded for 5 minutes")),
        # some failures, but uploads still get processed
        _case({'upload_processing_failures_total{job="file-processor"}': "0+1x100",
               'uploads_processed_total{job="file-processor",status="ok"}': "0+1x100"},
              "UploadProcessingStuck", "12m", []),
    ),
}


def _context(tmp_path: Path) -> LocalContext:
    settings = Settings.load({"ECOMCTL_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)})
    return LocalContext(settings, StackSecrets.generate())


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    assert {a.name for a in obs.alerts(TOPOLOGY)} == set(CASES)
    for fire, quiet in CASES.values():
        assert fire["alert_rule_test"][0]["exp_alerts"] and not quiet["alert_rule_test"][0]["exp_alerts"]


@needs_promtool
def test_promtool_checks_the_rendered_rules_and_config(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    ctx.layout.run.mkdir(parents=True)
    prometheus.rules_path(ctx).write_text(prometheus.render_rules(ctx))
    prometheus.config_path(ctx).write_text(prometheus.render_config(ctx))
    rules = _promtool("check", "rules", str(prometheus.rules_path(ctx)), cwd=tmp_path)
    assert rules.returncode == 0, rules.stdout + rules.stderr
    config = _promtool("check", "config", str(prometheus.config_path(ctx)), cwd=tmp_path)
    assert config.returncode == 0, config.stdout + config.stderr


@needs_promtool
@pytest.mark.parametrize("alert", sorted(CASES))
@pytest.mark.parametrize("which", ["fires", "quiet"])
def test_promtool_unit_tests(tmp_path: Path, alert: str, which: str) -> None:
    (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": obs.rule_groups(TOPOLOGY)}))
    case = CASES[alert][0 if which == "fires" else 1]
    tests = {"rule_files": ["rules.yml"], "evaluation_interval": f"{obs.EVALUATION_INTERVAL_S}s", "tests": [case]}
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    result = _promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cloud_prometheus_rule_equals_the_local_rule_file(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    local = yaml.safe_load(prometheus.render_rules(ctx))
    values = m.ManifestValues(image_repositories={s.name: f"registry.example/{s.name}" for s in TOPOLOGY.services},
                              image_tag="3f2a9c1")
    cloud = m.prometheus_rule(TOPOLOGY, values)
    assert cloud["spec"] == local
    assert cloud in m.platform_objects(TOPOLOGY, values)


def test_scrape_list_is_every_service_and_metrics_worker(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    config = yaml.safe_load(prometheus.render_config(ctx))
    jobs = {c["job_name"]: c["static_configs"][0]["targets"] for c in config["scrape_configs"]}
    expected = {s.name for s in TOPOLOGY.services} | {w.name for w in TOPOLOGY.workers if w.metrics_port}
    assert set(jobs) == expected | {obs.PROMETHEUS_JOB}
    for name, targets in jobs.items():
        assert targets == [f"127.0.0.1:{ctx.port(name)}"]


def test_test_stacks_on_offsets_25_apart_never_share_a_port() -> None:
    stacks = [set(Settings.load({"ECOMCTL_PORT_OFFSET": str(o), "HOME": "/tmp"}).ports.values())
              for o in range(12000, 12951, 25)]
    for i, ports in enumerate(stacks):
        assert max(ports) < 32768
        for other in stacks[i + 1:]:
            assert not ports & other
