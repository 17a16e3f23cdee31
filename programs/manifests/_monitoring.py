"""ServiceMonitors for every service and the provisioned Grafana dashboard."""

from __future__ import annotations

import json
from typing import Any

from blueprint.topology import Topology

from ._values import ManifestValues, labels, meta

# Metric names the services' kit exposes on /metrics (and kube-state-metrics / MSK open monitoring).
REQUESTS = "http_requests_total"
DURATION_BUCKET = "http_request_duration_seconds_bucket"
ORDERS_CREATED = "orders_created_total"
CONSUMER_LAG = "kafka_consumer_group_ConsumerLagMetrics_Value"  # MSK open monitoring (JMX exporter)
DASHBOARD_UID = "ecomctl-platform"


def service_monitor(service_name: str, values: ManifestValues) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": meta(service_name, values.namespace,
                         {**labels(service_name), "release": values.monitoring_release}),
        "spec": {
            "selector": {"matchLabels": labels(service_name)},
            "namespaceSelector": {"matchNames": [values.namespace]},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}],
        },
    }


def _panel(pid: int, title: str, exprs: list[tuple[str, str]], unit: str, x: int, y: int) -> dict[str, Any]:
    return {
        "id": pid, "type": "timeseries", "title": title,
        "gridPos": {"x": x, "y": y, "w": 12, "h": 8},
        "datasource": {"type": "prometheus", "uid": "prometheus"},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": chr(65 + i), "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(exprs)],
    }


def dashboard(topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """The platform dashboard: req/s, errors, p50/p95/p99 per service, orders/min, lag, replicas."""
    ns = f'namespace="{values.namespace}"'
    quantiles = [
        (f"histogram_quantile({q}, sum by (job, le) (rate({DURATION_BUCKET}{{{ns}}}[5m])))",
         f"p{int(q * 100)} {{{{job}}}}")
        for q in (0.5, 0.95, 0.99)
    ]
    panels = [
        _panel(1, "Requests per second", [(f"sum by (job) (rate({REQUESTS}{{{ns}}}[1m]))", "{{job}}")],
               "reqps", 0, 0),
        _panel(2, "Errors per second (5xx)",
               [(f'sum by (job) (rate({REQUESTS}{{{ns},status=~"5.."}}[1m]))', "{{job}}")], "reqps", 12, 0),
        _panel(3, "Latency p50 / p95 / p99", quantiles, "s", 0, 8),
        _panel(4, "Orders per minute", [(f"sum(rate({ORDERS_CREATED}{{{ns}}}[5m])) * 60", "orders/min")],
               "short", 12, 8),
        _panel(5, "Consumer lag (messages)",
               [(f'sum by (groupId, topic) ({CONSUMER_LAG}{{name="SumOffsetLag"}})', "{{groupId}} {{topic}}")],
               "short", 0, 16),
        _panel(6, "Replicas", [
            (f"kube_deployment_status_replicas_available{{{ns}}}", "{{deployment}}"),
            (f"kube_horizontalpodautoscaler_spec_max_replicas{{{ns}}}", "max {{horizontalpodautoscaler}}"),
        ], "short", 12, 16),
    ]
    return {
        "uid": DASHBOARD_UID, "title": f"{topology.name} platform", "schemaVersion": 39,
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s", "tags": [topology.name],
        "templating": {"list": []}, "panels": panels,
        "annotations": {"list": []}, "editable": False,
        "description": "services: " + ", ".join(s.name for s in topology.services),
    }


def dashboard_config_map(topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """A ConfigMap the kube-prometheus-stack Grafana sidecar provisions (label ``grafana_dashboard``)."""
    return {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": meta(f"{topology.name}-dashboard", values.monitoring_namespace, {"grafana_dashboard": "1"}),
        "data": {f"{topology.name}.json": json.dumps(dashboard(topology, values), indent=1, sort_keys=True)},
    }


def monitoring_objects(topology: Topology, values: ManifestValues) -> list[dict[str, Any]]:
    return [*(service_monitor(s.name, values) for s in topology.services),
            dashboard_config_map(topology, values)]
