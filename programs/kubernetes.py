"""The Kubernetes program (on EKS): namespaces, config and secrets from the AWS outputs, the
cluster controllers (AWS Load Balancer Controller, cluster autoscaler), metrics-server,
kube-prometheus-stack (ServiceMonitors, the Grafana dashboard, a generated admin password),
the MySQL bootstrap Job, and the workloads from ``programs.manifests``: applied by this stage
(``gitops_owner=pulumi``) or by Argo CD from git (``gitops_owner=argocd``), never by both.

Runs after the AWS stage: ``upstream`` holds its resolved outputs (``aws.<output>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from blueprint.topology import TOPOLOGY, Topology
from blueprint.wiring import mysql_user, service_env
from programs import manifests as m
from programs.config import ProgramConfig
from programs.endpoints import cloud_endpoints

CHARTS: dict[str, tuple[str, str, str]] = {  # release -> (chart, version, repository)
    "metrics-server": ("metrics-server", "3.13.0", "https://kubernetes-sigs.github.io/metrics-server/"),
    "kube-prometheus-stack": ("kube-prometheus-stack", "79.5.0",
                              "https://prometheus-community.github.io/helm-charts"),
    "argo-cd": ("argo-cd", "9.1.3", "https://argoproj.github.io/argo-helm"),
    "aws-load-balancer-controller": ("aws-load-balancer-controller", "1.14.0", "https://aws.github.io/eks-charts"),
    "cluster-autoscaler": ("cluster-autoscaler", "9.50.1", "https://kubernetes.github.io/autoscaler"),
}
GITOPS_OWNERS = ("pulumi", "argocd")
RDS_CA_PATH = "/etc/ssl/rds/global-bundle.pem"  # baked into the service image (programs/docker)
GRAFANA_ADMIN_SECRET = "grafana-admin"
REQUIRED_UPSTREAM = ("aws.kubeconfig", "aws.ecr_repositories", "aws.rds_endpoint", "aws.rds_master_username",
                     "aws.rds_master_password", "aws.mysql_passwords", "aws.msk_bootstrap_brokers_sasl_scram",
                     "aws.kafka_username", "aws.kafka_password", "aws.sns_topic_arns", "aws.table_names",
                     "aws.bucket_names", "aws.jwt_secret", "aws.admin_email", "aws.admin_password",
                     "aws.vpc_id", "aws.controller_role_arns")
_TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
}
_TOP_LEVEL = {"data": "data", "stringData": "string_data", "spec": "spec", "type": "type",
              "automountServiceAccountToken": "automount_service_account_token"}


def apply_object(obj: Mapping[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Create one object dict as a typed resource (a CustomResource for CRD kinds)."""
    md = obj["metadata"]
    name = f"{obj['kind'].lower()}-{md.get('namespace', 'cluster')}-{md['name']}"
    ctor = _TYPED.get((obj["apiVersion"], obj["kind"]))
    if ctor is None:
        return k8s.apiextensions.CustomResource(name, api_version=obj["apiVersion"], kind=obj["kind"],
                                                metadata=md, spec=obj.get("spec"), opts=opts)
    kwargs = {py: obj[key] for key, py in _TOP_LEVEL.items() if key in obj}
    resource: pulumi.CustomResource = ctor(name, metadata=md, opts=opts, **kwargs)
    return resource


def _secret_object(name: str, namespace: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": "ecomctl"}},
            "stringData": dict(data)}


def text(value: Any) -> Any:
    """A value as a string for a ConfigMap or Secret. Upstream secrets arrive as ``Output.secret``
    (the Automation layer keeps them secret): those stay Outputs, and stay secret."""
    if isinstance(value, pulumi.Output):
        return value.apply(_plain_text)
    return _plain_text(value)


def _plain_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():  # numbers come back from the engine as floats
        return str(int(value))
    return str(value)


def bootstrap_sql(topology: Topology, passwords: Mapping[str, Any]) -> Any:
    """The MySQL bootstrap script with the per-database passwords (secret Outputs stay secret)."""
    def render(resolved: Mapping[str, Any]) -> str:
        return m.mysql_bootstrap_sql({d.name: (mysql_user(d.name), str(resolved[d.name]))
                                      for d in topology.databases})

    return pulumi.Output.all(**dict(passwords)).apply(render)


def mysql_tls_env() -> dict[str, str]:
    """What a service with a database adds to its config: TLS to RDS, verified with the RDS CA."""
    return {"MYSQL_TLS": "verify", "MYSQL_TLS_CA": RDS_CA_PATH}


def stack_config_objects(topology: Topology, cfg: ProgramConfig, upstream: Mapping[str, Any],
                         values: m.ManifestValues) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(ConfigMaps, Secrets) per service from the AWS outputs, and the MySQL bootstrap Secret."""
    endpoints = cloud_endpoints(
        topology, cfg, namespace=values.namespace,
        mysql_host=upstream["aws.rds_endpoint"], mysql_port=int(float(upstream.get("aws.rds_port", 3306))),
        database_passwords=upstream["aws.mysql_passwords"],
        kafka_bootstrap=upstream["aws.msk_bootstrap_brokers_sasl_scram"],
        kafka_username=upstream["aws.kafka_username"], kafka_password=upstream["aws.kafka_password"],
        queue_urls=upstream.get("aws.queue_urls", {}), sns_topic_arns=upstream["aws.sns_topic_arns"],
        physical_names={**upstream["aws.table_names"], **upstream["aws.bucket_names"]},
        jwt_secret=upstream["aws.jwt_secret"], admin_email=upstream["aws.admin_email"],
        admin_password=upstream["aws.admin_password"])
    configs: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for service in topology.services:
        config, secret = m.split_env(service_env(service, endpoints, topology))
        if service.database is not None:
            config.update(mysql_tls_env())
        configs.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": values.config_name(service.name), "namespace": values.namespace,
                                     "labels": m.labels(service.name)},
                        "data": {k: text(v) for k, v in config.items()}})
        secrets.append(_secret_object(values.secret_name(service.name), values.namespace,
                                      {k: text(v) for k, v in secret.items()}))
    bootstrap = _secret_object("mysql-bootstrap", values.namespace, {
        "MYSQL_HOST": text(upstream["aws.rds_endpoint"]), "MYSQL_PORT": text(upstream.get("aws.rds_port", 3306)),
        "MYSQL_USER": text(upstream["aws.rds_master_username"]),
        "MYSQL_PWD": text(upstream["aws.rds_master_password"]),
        "bootstrap.sql": bootstrap_sql(topology, upstream["aws.mysql_passwords"])})
    return configs, secrets, bootstrap


def manifest_values(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> m.ManifestValues:
    aws = {k.removeprefix("aws."): v for k, v in upstream.items() if k.startswith("aws.")}
    return m.ManifestValues.from_stack(cfg, aws)


def _release(key: str, namespace: str, values: Mapping[str, Any], opts: pulumi.ResourceOptions) -> k8s.helm.v3.Release:
    chart, version, repo = CHARTS[key]
    return k8s.helm.v3.Release(key, name=key, chart=chart, version=version, namespace=namespace,
                               repository_opts={"repo": repo}, values=dict(values), atomic=True,
                               cleanup_on_fail=True, timeout=900, opts=opts)


def prometheus_values(upstream: Mapping[str, Any]) -> dict[str, Any]:
    """kube-prometheus-stack: pick up every ServiceMonitor and dashboard; scrape MSK's exporters;
    Grafana's admin login from the generated Secret (never the chart's default password)."""
    brokers = [b.rsplit(":", 1)[0] for b in str(upstream.get("aws.msk_bootstrap_brokers_sasl_scram", "")).split(",")
               if b]
    return {
        "prometheus": {"prometheusSpec": {
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "retention": "7d",
            "additionalScrapeConfigs": [
                {"job_name": "msk-jmx", "static_configs": [{"targets": [f"{h}:11001" for h in brokers]}]},
                {"job_name": "msk-node", "static_configs": [{"targets": [f"{h}:11002" for h in brokers]}]},
            ],
        }},
        "grafana": {"sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard",
                                               "searchNamespace": "ALL"}},
                    "defaultDashboardsEnabled": True,
                    "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user",
                              "passwordKey": "admin-password"}},
    }


def controller_values(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Helm values of the cluster controllers (release -> values), each on its IRSA role."""
    roles = upstream["aws.controller_role_arns"]
    cluster = str(upstream.get("aws.cluster_name") or cfg.prefix)

    def account(name: str) -> dict[str, Any]:
        return {"create": True, "name": name, "annotations": {"eks.amazonaws.com/role-arn": roles[name]}}

    values: dict[str, dict[str, Any]] = {"aws-load-balancer-controller": {
        "clusterName": cluster, "region": cfg.aws_region, "vpcId": upstream["aws.vpc_id"],
        "serviceAccount": account("aws-load-balancer-controller"),
        "enableShield": False, "enableWaf": False, "enableWafv2": False, "replicaCount": 2}}
    if cfg.node_autoscaler == "cluster-autoscaler":
        values["cluster-autoscaler"] = {
            "cloudProvider": "aws", "awsRegion": cfg.aws_region,
            "autoDiscovery": {"clusterName": cluster},
            "rbac": {"serviceAccount": account("cluster-autoscaler")},
            "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-system-pods": False,
                          "expander": "least-waste"}}
    elif cfg.node_autoscaler != "none":
        raise ValueError("node_autoscaler: 'cluster-autoscaler' or 'none'")
    return values


def _status_url(svc: pulumi.CustomResource, scheme: str) -> pulumi.Output[str]:
    def url(status: Any) -> str:
        ingress = (getattr(getattr(status, "load_balancer", None), "ingress", None) or []) if status else []
        host = (getattr(ingress[0], "hostname", None) or getattr(ingress[0], "ip", None)) if ingress else None
        return f"{scheme}://{host}" if host else ""
    return svc.status.apply(url)  # type: ignore[attr-defined, no-any-return]


def k8s_program(cfg: ProgramConfig, upstream: Mapping[str, Any], topology: Topology = TOPOLOGY) -> None:
    """Stage ``k8s``: everything in the cluster, then the URLs the operator needs."""
    missing = [k for k in REQUIRED_UPSTREAM if k not in upstream]
    if missing:
        raise ValueError(f"the k8s stage needs the aws stage's outputs first: missing {', '.join(missing)}")
    provider = k8s.Provider(f"{cfg.prefix}-k8s", kubeconfig=upstream["aws.kubeconfig"],
                            enable_server_side_apply=True)
    opts = pulumi.ResourceOptions(provider=provider)
    values = manifest_values(cfg, upstream)
    # node-exporter (kube-prometheus-stack) needs host access: its namespace is privileged
    namespaces = [apply_object(m.namespace(ns, level), opts) for ns, level in (
        (values.namespace, "restricted"), (values.monitoring_namespace, "privileged"),
        (values.argocd_namespace, "baseline"))]
    in_ns = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=namespaces))
    if cfg.gitops_owner not in GITOPS_OWNERS:
        raise ValueError("gitops_owner: 'pulumi' or 'argocd'")
    controllers = [_release(key, "kube-system", v, opts) for key, v in controller_values(cfg, upstream).items()]
    metrics = _release("metrics-server", "kube-system", {"args": ["--kubelet-preferred-address-types=InternalIP"]},
                       opts)
    grafana_password = random.RandomPassword(f"{cfg.prefix}-grafana-admin", length=32, special=False)
    grafana_secret = apply_object(_secret_object(GRAFANA_ADMIN_SECRET, values.monitoring_namespace, {
        "admin-user": "admin", "admin-password": grafana_password.result}), in_ns)
    monitoring = _release("kube-prometheus-stack", values.monitoring_namespace, prometheus_values(upstream),
                          pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[grafana_secret])))
    configs, secrets, bootstrap = stack_config_objects(topology, cfg, upstream, values)
    config_resources = [apply_object(o, in_ns) for o in configs + secrets]
    bootstrap_deps = [apply_object(bootstrap, in_ns), apply_object(m.mysql_bootstrap_policy(values), in_ns)]
    job = apply_object(m.mysql_bootstrap_job("mysql-bootstrap", "mysql-bootstrap", values),
                       pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=bootstrap_deps)))
    workload_deps: Sequence[pulumi.Resource] = [*config_resources, job, monitoring, metrics, *controllers]
    workload_opts = pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=list(workload_deps)))
    gateway = topology.service(topology.gateway)
    scheme = "https" if cfg.public_certificate_arn else "http"
    entry_deps: list[pulumi.Resource] = [monitoring]
    if cfg.gitops_owner == "argocd":  # Argo CD applies the workloads from git; this stage never does
        argocd = _release("argo-cd", values.argocd_namespace, {"configs": {"params": {"server.insecure": False}}},
                          in_ns)
        entry_deps.append(argocd)
        apply_object(m.argocd_application(topology, values),
                     pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[argocd, *workload_deps])))
        storefront_lb: pulumi.Output[str] = pulumi.Output.from_input("")
    else:
        created = {f"{o['kind']}/{o['metadata']['name']}": apply_object(o, workload_opts)
                   for o in m.platform_objects(topology, values)}
        storefront_lb = _status_url(created[f"Ingress/{gateway.name}-public"], scheme)
    entries = [apply_object(o, pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(
        depends_on=entry_deps))) for o in m.admin_entries(values)]
    pulumi.export("namespace", values.namespace)
    pulumi.export("gitops_owner", cfg.gitops_owner)
    pulumi.export("storefront_url", pulumi.Output.from_input(f"{scheme}://{cfg.storefront_domain}")
                  if cfg.storefront_domain else storefront_lb)
    pulumi.export("storefront_load_balancer", storefront_lb)
    pulumi.export("grafana_url", _status_url(entries[0], "http"))
    pulumi.export("grafana_admin_password", pulumi.Output.secret(grafana_password.result))
    pulumi.export("argocd_url", _status_url(entries[1], "https") if len(entries) > 1 else "")
    pulumi.export("cluster_name", upstream.get("aws.cluster_name", ""))
