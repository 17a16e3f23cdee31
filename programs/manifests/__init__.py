"""Pure functions: topology (+ ``ManifestValues``) -> Kubernetes object dicts.

Used by the Kubernetes program (``programs.kubernetes``), by ``ecomctl render``
(``write_manifests``) and by the schema tests. No Pulumi import, no I/O except ``write_manifests``.
"""

from __future__ import annotations

from ._monitoring import dashboard, dashboard_config_map, monitoring_objects, prometheus_rule, service_monitor
from ._network import network_policies
from ._platform import (
    admin_entries,
    argocd_application,
    manifest_filename,
    mysql_bootstrap_job,
    mysql_bootstrap_policy,
    mysql_bootstrap_sql,
    namespace,
    platform_objects,
    write_manifests,
)
from ._values import KAFKA_PORT, SECRET_ENV_KEYS, ManifestValues, labels, secret_keys, split_env
from ._workloads import autoscaler, deployment, service_objects

__all__ = [
    "KAFKA_PORT",
    "SECRET_ENV_KEYS",
    "ManifestValues",
    "admin_entries",
    "argocd_application",
    "autoscaler",
    "dashboard",
    "dashboard_config_map",
    "deployment",
    "labels",
    "manifest_filename",
    "monitoring_objects",
    "mysql_bootstrap_job",
    "mysql_bootstrap_policy",
    "mysql_bootstrap_sql",
    "namespace",
    "network_policies",
    "platform_objects",
    "prometheus_rule",
    "secret_keys",
    "service_monitor",
    "service_objects",
    "split_env",
    "write_manifests",
]
