"""ServiceMonitors for every service, the platform's PrometheusRule and the provisioned Grafana dashboard."""

from __future__ import annotations

import json
from typing import Any

from blueprint import observability
from blueprint.topology import Topology

from ._values import ManifestValues, labels, meta

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


def dashboard(topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """The platform dashboard (``blueprint.observability``: the panels the local stack checks)."""
    return observability.dashboard(topology, DASHBOARD_UID)


def prometheus_rule(topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """The recording and alerting rules: the same groups as the local stack's rule file."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": meta(f"{topology.name}-rules", values.namespace,
                         {"app.kubernetes.io/part-of": topology.name, "release": values.monitoring_release}),
        "spec": {"groups": observability.rule_groups(topology)},
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
            prometheus_rule(topology, values), dashboard_config_map(topology, values)]
