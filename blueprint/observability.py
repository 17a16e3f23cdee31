"""What the platform measures, alerts on and shows: defined once, rendered as plain dicts.

The local runtime writes ``prometheus_config``/``rule_groups`` as the Prometheus files of the
local stack; the cloud programs wrap the same ``rule_groups`` in a ``PrometheusRule`` and the
same ``dashboard`` in the Grafana ConfigMap. Scrape jobs come from the topology (one per service
and per worker with a metrics port), and a job is named after its component, as the cloud's
ServiceMonitors name theirs after the Kubernetes Service, so one rule text serves both.

Stdlib only, no I/O: callers serialise (YAML or JSON) and write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from blueprint.topology import Topology

SCRAPE_INTERVAL_S = 10
EVALUATION_INTERVAL_S = 10
DOWN_FOR_S = 30
DOWN_FOR = f"{DOWN_FOR_S}s"
PROMETHEUS_JOB = "prometheus"

# Metric names the services and the worker expose (services.kit.metrics and the callers).
REQUESTS = "http_requests_total"
DURATION_BUCKET = "http_request_duration_seconds_bucket"
ORDERS_CREATED = "orders_created_total"
ORDERS_REVENUE = "orders_revenue_usd_total"
CONSUMER_LAG = "kafka_consumer_lag"
OUTBOX_BACKLOG = "outbox_backlog"
OUTBOX_AGE = "outbox_oldest_age_seconds"
NOTIFICATION_DELAY_BUCKET = "notification_delay_seconds_bucket"
WINDOW_END = "analytics_last_window_end_seconds"
WINDOW_STORED_AT = "analytics_last_window_stored_seconds"
WINDOWS_STORED = "analytics_results_stored_total"
UPLOAD_DELAY_BUCKET = "upload_processing_delay_seconds_bucket"
UPLOADS_PROCESSED = "uploads_processed_total"
UPLOAD_FAILURES = "upload_processing_failures_total"

# Recorded series (level:metric:operations, Prometheus' naming convention).
RATE = "route:http_requests:rate1m"
ERROR_RATIO = "route:http_request_errors:ratio_rate5m"
P95 = "route:http_request_duration_seconds:p95_5m"
P99 = "route:http_request_duration_seconds:p99_5m"
GROUP_LAG = "group:kafka_consumer_lag:sum"

SLO_SERVICES = ("orders", "products")
ERROR_BUDGET = 0.01  # 99 % of requests succeed
FAST_BURN = 14.4  # the budget of 30 days gone in 2 days
P95_TARGET_S = 0.5


@dataclass(frozen=True)
class ScrapeJob:
    name: str
    port: int


@dataclass(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    summary: str
    runbook: str


def scrape_jobs(topology: Topology, ports: dict[str, int]) -> list[ScrapeJob]:
    """One job per service and per worker with a metrics port; ``ports`` maps a component to its port."""
    jobs = [ScrapeJob(s.name, ports[s.name]) for s in topology.services]
    jobs += [ScrapeJob(w.name, ports[w.name]) for w in topology.workers if w.metrics_port is not None]
    return jobs


def scraped_names(topology: Topology) -> list[str]:
    return [s.name for s in topology.services] + [w.name for w in topology.workers if w.metrics_port is not None]


def prometheus_config(
    topology: Topology, ports: dict[str, int], host: str, rule_file: str, self_port: int
) -> dict[str, Any]:
    """The Prometheus configuration of the local stack (scrape list derived from the topology)."""
    jobs = [ScrapeJob(PROMETHEUS_JOB, self_port), *scrape_jobs(topology, ports)]
    return {
        "global": {"scrape_interval": f"{SCRAPE_INTERVAL_S}s", "scrape_timeout": "5s",
                   "evaluation_interval": f"{EVALUATION_INTERVAL_S}s"},
        "rule_files": [rule_file],
        "scrape_configs": [
            {"job_name": j.name, "metrics_path": "/metrics",
             "static_configs": [{"targets": [f"{host}:{j.port}"]}]}
            for j in jobs
        ],
    }


def _jobs_regex(topology: Topology) -> str:
    return "|".join(scraped_names(topology))


def alerts(topology: Topology) -> list[Alert]:
    slo = "|".join(SLO_SERVICES)
    burn = round(ERROR_BUDGET * FAST_BURN, 4)
    return [
        Alert("ComponentDown", f'up{{job=~"{_jobs_regex(topology)}"}} == 0', DOWN_FOR, "critical",
              "{{ $labels.job }} ({{ $labels.instance }}) does not answer its /metrics scrape",
              "Look at `ecomctl status` and `ecomctl logs <component>`; the supervisor restarts a crashed "
              "process, so a component that stays down usually fails at start (a store it needs is down, or "
              "its port is taken)."),
        Alert("ErrorBudgetBurn",
              f'{ERROR_RATIO}{{job=~"{slo}"}} > {burn}', "2m", "critical",
              "{{ $labels.job }} {{ $labels.route }}: {{ $value | humanizePercentage }} of requests fail "
              f"(fast burn of a {100 - ERROR_BUDGET * 100:g} % SLO)",
              "Find the failing route on the dashboard's error panel, then the service's log; 503s mean a "
              "dependency (MariaDB, DynamoDB, Kafka) is unavailable, 500s a bug."),
        Alert("LatencySLOBurn",
              f'{P95}{{job=~"{slo}"}} > {P95_TARGET_S}', "5m", "warning",
              "{{ $labels.job }} {{ $labels.route }}: p95 latency {{ $value | humanizeDuration }} "
              f"(target {P95_TARGET_S} s)",
              "Check CPU of the service (replicas on the cloud) and the latency of its store; a cold cache "
              "or a saturated database shows first on p95."),
        Alert("ConsumerLagGrowing",
              f"{GROUP_LAG} > 100 and deriv({GROUP_LAG}[5m]) > 0", "5m", "warning",
              "consumer group {{ $labels.group }} is {{ $value }} messages behind on {{ $labels.topic }} "
              "and falling further behind",
              "The consumer is slower than the producers or is failing on a record: see its log for "
              "retries; add replicas (up to the topic's partitions)."),
        Alert("OutboxBacklogOld", f"{OUTBOX_AGE} > 60", "1m", "warning",
              "the oldest unpublished order event is {{ $value | humanizeDuration }} old",
              "The outbox relay in orders cannot publish: Kafka is down or unreachable. Orders are still "
              "accepted; events flow again once Kafka is back (see `ecomctl status`)."),
        Alert("AnalyticsWindowsStalled",
              f"time() - max({WINDOW_STORED_AT}) > 180 and on() sum(rate({ORDERS_CREATED}[5m])) > 0",
              "1m", "warning",
              "orders are flowing but no analytics window was stored for {{ $value | humanizeDuration }}",
              "The stream job is down or stuck (`ecomctl status`, `ecomctl logs orders-analytics`), or the "
              "analytics service stopped consuming analytics-results."),
        Alert("UploadProcessingStuck",
              f"sum(increase({UPLOAD_FAILURES}[5m])) > 0 and on() sum(increase({UPLOADS_PROCESSED}[5m])) == 0",
              "5m", "warning",
              "uploads fail to process and none succeeded for 5 minutes",
              "The file processor cannot read or write the data bucket: see `ecomctl logs file-processor`; "
              "messages are retried, then dropped after 5 attempts."),
    ]


def recording_rules() -> list[dict[str, str]]:
    by = "job, route"
    return [
        {"record": RATE, "expr": f"sum by ({by}) (rate({REQUESTS}[1m]))"},
        {"record": ERROR_RATIO,
         "expr": f'sum by ({by}) (rate({REQUESTS}{{status=~"5.."}}[5m])) / sum by ({by}) (rate({REQUESTS}[5m]))'},
        {"record": P95, "expr": f"histogram_quantile(0.95, sum by ({by}, le) (rate({DURATION_BUCKET}[5m])))"},
        {"record": P99, "expr": f"histogram_quantile(0.99, sum by ({by}, le) (rate({DURATION_BUCKET}[5m])))"},
        {"record": GROUP_LAG, "expr": f"sum by (job, group, topic) ({CONSUMER_LAG})"},
    ]


def rule_groups(topology: Topology) -> list[dict[str, Any]]:
    """The rule groups: the local rule file's ``groups`` and the cloud PrometheusRule's ``spec.groups``."""
    return [
        {"name": f"{topology.name}.records", "interval": f"{EVALUATION_INTERVAL_S}s",
         "rules": recording_rules()},
        {"name": f"{topology.name}.alerts", "interval": f"{EVALUATION_INTERVAL_S}s",
         "rules": [{"alert": a.name, "expr": a.expr, "for": a.for_, "labels": {"severity": a.severity},
                    "annotations": {"summary": a.summary}} for a in alerts(topology)]},
    ]


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    targets: tuple[tuple[str, str], ...]  # (PromQL, legend)
    cloud_targets: tuple[tuple[str, str], ...] = ()  # series only a cluster has (kube-state-metrics)


def panels() -> list[Panel]:
    def quantile(q: float, bucket: str) -> str:
        return f"histogram_quantile({q}, sum by (le) (rate({bucket}[5m])))"

    return [
        Panel("Requests per second by route", "reqps", ((RATE, "{{job}} {{route}}"),)),
        Panel("Error ratio by route (5xx)", "percentunit", ((ERROR_RATIO, "{{job}} {{route}}"),)),
        Panel("Latency p95 / p99 by route", "s",
              ((P95, "p95 {{job}} {{route}}"), (P99, "p99 {{job}} {{route}}"))),
        Panel("Orders and revenue per minute", "short",
              ((f"sum(rate({ORDERS_CREATED}[5m])) * 60", "orders/min"),
               (f"sum(rate({ORDERS_REVENUE}[5m])) * 60", "USD/min"))),
        Panel("Consumer lag (messages)", "short", ((GROUP_LAG, "{{group}} {{topic}}"),)),
        Panel("Stream: window lag and results", "s",
              ((f"time() - max({WINDOW_END})", "event-time lag of the newest window"),
               (f"sum(rate({WINDOWS_STORED}[5m])) * 60", "results stored/min"))),
        Panel("Outbox backlog", "short",
              ((f"max({OUTBOX_BACKLOG})", "unpublished events"), (f"max({OUTBOX_AGE})", "oldest (s)"))),
        Panel("Notification and upload delay p95", "s",
              ((quantile(0.95, NOTIFICATION_DELAY_BUCKET), "order accepted -> notification stored"),
               (quantile(0.95, UPLOAD_DELAY_BUCKET), "upload -> processed"))),
        Panel("Replicas", "short", (("count by (job) (up == 1)", "{{job}} (scraped)"),),
              cloud_targets=(("kube_horizontalpodautoscaler_status_current_replicas",
                              "{{horizontalpodautoscaler}} (HPA)"),)),
    ]


def dashboard(topology: Topology, uid: str, datasource_uid: str = "prometheus") -> dict[str, Any]:
    """The Grafana dashboard: one timeseries panel per ``panels()`` entry, two per row."""
    out = []
    for i, panel in enumerate(panels()):
        targets = [*panel.targets, *panel.cloud_targets]
        out.append({
            "id": i + 1, "type": "timeseries", "title": panel.title,
            "gridPos": {"x": 12 * (i % 2), "y": 8 * (i // 2), "w": 12, "h": 8},
            "datasource": {"type": "prometheus", "uid": datasource_uid},
            "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
            "targets": [{"refId": chr(65 + n), "expr": expr, "legendFormat": legend}
                        for n, (expr, legend) in enumerate(targets)],
        })
    return {
        "uid": uid, "title": f"{topology.name} platform", "schemaVersion": 39,
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "tags": [topology.name],
        "templating": {"list": []}, "panels": out, "annotations": {"list": []}, "editable": False,
        "description": "services: " + ", ".join(s.name for s in topology.services),
    }
