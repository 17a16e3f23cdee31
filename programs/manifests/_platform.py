"""The whole object list, the Argo CD Application, the admin entries, the MySQL bootstrap Job,
and ``write_manifests`` for ``ecomctl render``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from blueprint.topology import Topology

from ._monitoring import monitoring_objects
from ._network import network_policies
from ._values import MYSQL_PORT, ManifestValues, meta
from ._workloads import container_security_context, service_objects

MYSQL_CLIENT_IMAGE = "mysql:8.4.7"
MYSQL_UID = 999


def namespace(name: str, pod_security: str = "restricted") -> dict[str, Any]:
    """A namespace enforcing a Pod Security level (the platform's own: ``restricted``)."""
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name,
                                                  "pod-security.kubernetes.io/enforce": pod_security}}}


def platform_objects(topology: Topology, values: ManifestValues) -> list[dict[str, Any]]:
    """What Argo CD syncs: every service's workload objects, the network policies, monitoring.

    ConfigMaps and Secrets with stack values (endpoints, passwords) are not in this list: the
    Kubernetes program creates them from the AWS outputs, and they never go to git.
    """
    objs: list[dict[str, Any]] = []
    for service in topology.services:
        objs.extend(service_objects(service, topology, values))
    objs.extend(network_policies(topology, values))
    objs.extend(monitoring_objects(topology, values))
    return objs


def argocd_application(topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """The Application syncing ``platform_objects`` from git (only when Argo CD owns them)."""
    if not values.gitops_repo_url:
        raise ValueError("gitops_repo_url: Argo CD owns the workloads (gitops_owner=argocd) but no "
                         "repository is set")
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta(topology.name, values.argocd_namespace),
        "spec": {
            "project": "default",
            "source": {"repoURL": values.gitops_repo_url, "targetRevision": values.gitops_revision,
                       "path": values.gitops_path, "directory": {"recurse": False}},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": values.namespace},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                           "syncOptions": ["ServerSideApply=true"]},
        },
    }


def admin_entry(name: str, namespace: str, selector: dict[str, str], target_port: int, port: int,
                values: ManifestValues) -> dict[str, Any]:
    """A load balancer for an operator UI: internet-facing only for ``admin_cidrs``, else internal."""
    metadata = meta(f"{name}-entry", namespace)
    annotations = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    spec: dict[str, Any] = {"type": "LoadBalancer", "selector": selector,
                            "ports": [{"name": "web", "port": port, "targetPort": target_port, "protocol": "TCP"}]}
    if values.admin_cidrs:
        spec["loadBalancerSourceRanges"] = list(values.admin_cidrs)
    else:
        annotations["service.beta.kubernetes.io/aws-load-balancer-internal"] = "true"
    metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def admin_entries(values: ManifestValues) -> list[dict[str, Any]]:
    """Grafana's entry, and Argo CD's when Argo CD is installed (``gitops_owner=argocd``)."""
    grafana = {"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": values.monitoring_release}
    entries = [admin_entry("grafana", values.monitoring_namespace, grafana, 3000, 80, values)]
    if values.gitops_owner == "argocd":
        argocd = {"app.kubernetes.io/name": "argocd-server"}
        entries.append(admin_entry("argocd", values.argocd_namespace, argocd, 8080, 443, values))
    return entries


def sql_string(value: str) -> str:
    """``value`` as a MySQL/MariaDB string literal (default SQL mode: backslash escapes on)."""
    if "\0" in value:
        raise ValueError("a NUL character cannot be part of a MySQL string literal")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"{name!r} is not a plain MySQL identifier")
    return name


def mysql_bootstrap_sql(users: dict[str, tuple[str, str]]) -> str:
    """SQL creating one schema and one user per database (``users``: database -> (user, password)).

    The password is a literal (``IDENTIFIED BY`` accepts nothing else); rerunning the script
    resets each password to the given one.
    """
    lines = []
    for db, (user, password) in sorted(users.items()):
        db, user, secret = _identifier(db), _identifier(user), sql_string(password)
        lines += [f"CREATE DATABASE IF NOT EXISTS `{db}`;",
                  f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY {secret};",
                  f"ALTER USER '{user}'@'%' IDENTIFIED BY {secret};",
                  f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{user}'@'%';"]
    return "\n".join(lines) + "\n"


def mysql_bootstrap_job(name: str, secret: str, values: ManifestValues) -> dict[str, Any]:
    """A Job that runs the bootstrap SQL (mounted from ``secret``) with the RDS master login."""
    script = ('mysql --protocol=TCP --ssl-mode=REQUIRED -h "$MYSQL_HOST" -P "$MYSQL_PORT" -u "$MYSQL_USER" '
              "< /bootstrap/bootstrap.sql")
    sc = {**container_security_context(), "runAsUser": MYSQL_UID, "runAsGroup": MYSQL_UID}
    env = [{"name": key, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
           for key in ("MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD")]
    pod_labels = {"app.kubernetes.io/name": "mysql-bootstrap", "app.kubernetes.io/part-of": "ecomctl"}
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": meta(name, values.namespace, {"app.kubernetes.io/name": "mysql-bootstrap"}),
        "spec": {"backoffLimit": 6, "template": {
            "metadata": {"labels": pod_labels},
            "spec": {
                "restartPolicy": "OnFailure", "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [{
                    "name": "mysql", "image": MYSQL_CLIENT_IMAGE, "command": ["sh", "-c", script], "env": env,
                    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                  "limits": {"cpu": "200m", "memory": "128Mi"}},
                    "securityContext": sc,
                    "volumeMounts": [{"name": "sql", "mountPath": "/bootstrap", "readOnly": True},
                                     {"name": "tmp", "mountPath": "/tmp"}],
                }],
                "volumes": [{"name": "sql", "secret": {"secretName": secret, "items": [
                                {"key": "bootstrap.sql", "path": "bootstrap.sql"}]}},
                            {"name": "tmp", "emptyDir": {}}],
            }}},
    }


def mysql_bootstrap_policy(values: ManifestValues) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta("mysql-bootstrap", values.namespace),
            "spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mysql-bootstrap"}},
                     "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": {"cidr": values.vpc_cidr}}],
                                 "ports": [{"protocol": "TCP", "port": MYSQL_PORT}]}]}}


def manifest_filename(obj: dict[str, Any]) -> str:
    md = obj["metadata"]
    ns = md.get("namespace", "cluster")
    return f"{ns}--{obj['kind'].lower()}--{md['name']}.json"


def write_manifests(topology: Topology, out_dir: Path, values: ManifestValues) -> list[Path]:
    """Write ``platform_objects`` as one JSON file each (Argo CD reads .json), sorted; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for obj in platform_objects(topology, values):
        path = out_dir / manifest_filename(obj)
        path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return sorted(written)
