"""The Kubernetes program under mocks: every object it creates is schema-valid; config and
secrets come from the AWS outputs; HPAs, monitoring, Argo CD and the public entry are in place."""

from __future__ import annotations

from typing import Any

import pytest

from blueprint.topology import TOPOLOGY
from programs.config import ProgramConfig
from tests.programs.harness import Rec, Run, run
from tests.programs.k8s_schema import validate

_NOT_OBJECTS = ("pulumi:providers:kubernetes", "kubernetes:helm.sh/v3:Release")


def k8s_objects(run: Run) -> list[tuple[Rec, dict[str, Any]]]:
    return [(r, {k: v for k, v in r.inputs.items()}) for r in run.resources
            if r.type.startswith("kubernetes:") and r.type not in _NOT_OBJECTS]


def test_every_object_the_program_creates_validates(dev: dict[str, Run], prod: dict[str, Run],
                                                    dev_cfg: ProgramConfig) -> None:
    objects = k8s_objects(dev["k8s"]) + k8s_objects(prod["k8s"])
    assert len(objects) > 50
    for rec, obj in objects:
        assert rec.type.rsplit(":", 1)[1] == obj["kind"]
        validate(obj, dev_cfg.kubernetes_version)


def test_no_deployment_under_an_hpa_sets_replicas(dev: dict[str, Run]) -> None:
    objects = [o for _, o in k8s_objects(dev["k8s"])]
    scaled = {(o["metadata"]["namespace"], o["spec"]["scaleTargetRef"]["name"]) for o in objects
              if o["kind"] == "HorizontalPodAutoscaler"}
    assert len(scaled) == len(TOPOLOGY.services)
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"
            and (o["metadata"]["namespace"], o["metadata"]["name"]) in scaled and "replicas" in o["spec"]] == []


def _obj(run: Run, kind: str, name: str) -> dict[str, Any]:
    found = [o for _, o in k8s_objects(run) if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_hpa_target_exists_and_bounds_match(dev: dict[str, Run], service: Any) -> None:
    hpa = _obj(dev["k8s"], "HorizontalPodAutoscaler", service.name)["spec"]
    _obj(dev["k8s"], hpa["scaleTargetRef"]["kind"], hpa["scaleTargetRef"]["name"])
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (service.min_replicas, service.max_replicas)


def test_config_and_secrets_come_from_the_aws_outputs(dev: dict[str, Run]) -> None:
    aws, k8s = dev["aws"].exports, dev["k8s"]
    orders_cfg = _obj(k8s, "ConfigMap", "orders-config")["data"]
    assert orders_cfg["MYSQL_HOST"] == aws["rds_endpoint"]
    assert orders_cfg["KAFKA_BOOTSTRAP_SERVERS"] == aws["msk_bootstrap_brokers_sasl_scram"]
    assert orders_cfg["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert orders_cfg["TABLE_PRODUCTS"] == aws["table_names"]["products"]
    assert orders_cfg["HOST"] == "0.0.0.0" and orders_cfg["PORT"] == "8003"
    gateway_cfg = _obj(k8s, "ConfigMap", "api-gateway-config")["data"]
    assert gateway_cfg["BUCKET_DATA"] == aws["bucket_names"]["data"]
    assert gateway_cfg["UPSTREAM_ORDERS_URL"] == "http://orders.ecomctl.svc.cluster.local:8003"
    assert gateway_cfg["CORS_ORIGINS"] == "https://shop.example.com"
    for rec, obj in k8s_objects(k8s):
        if obj["kind"] == "ConfigMap":
            assert not set(obj.get("data", {})) & {"JWT_SECRET", "MYSQL_PASSWORD", "KAFKA_SASL_PASSWORD",
                                                    "ADMIN_PASSWORD"}, rec.name
        if obj["kind"] == "Secret":
            assert "stringData" in rec.secrets, rec.name  # secret in the Pulumi state too
    secret = _obj(k8s, "Secret", "orders-secrets")["stringData"]
    assert secret["MYSQL_PASSWORD"] == aws["mysql_passwords"]["orders"]
    assert secret["KAFKA_SASL_PASSWORD"] == aws["kafka_password"]
    assert secret["JWT_SECRET"] == aws["jwt_secret"]
    sa = _obj(k8s, "ServiceAccount", "products")
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == aws["service_role_arns"]["products"]


def test_mysql_bootstrap_uses_the_master_login_and_per_service_passwords(dev: dict[str, Run]) -> None:
    from blueprint.wiring import mysql_user
    from programs.manifests import mysql_bootstrap_sql

    aws, k8s = dev["aws"].exports, dev["k8s"]
    boot = _obj(k8s, "Secret", "mysql-bootstrap")
    assert "stringData" in next(r for r, o in k8s_objects(k8s) if o is boot or o == boot).secrets
    data = boot["stringData"]
    assert data["MYSQL_PWD"] == aws["rds_master_password"] and data["MYSQL_HOST"] == aws["rds_endpoint"]
    # the script is the one test_bootstrap_sql.py runs against MariaDB, with the stack's passwords
    assert data["bootstrap.sql"] == mysql_bootstrap_sql(
        {db: (mysql_user(db), pw) for db, pw in aws["mysql_passwords"].items()})
    job = _obj(k8s, "Job", "mysql-bootstrap")
    assert job["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] is True


def _releases(run: Run) -> dict[str, dict[str, Any]]:
    return {r.inputs["chart"]: r.inputs for r in run.of_type("kubernetes:helm.sh/v3:Release")}


WORKLOAD_KINDS = {"Deployment", "HorizontalPodAutoscaler", "Ingress", "ServiceMonitor", "NetworkPolicy"}


def test_pulumi_owns_the_workloads_by_default(dev: dict[str, Run]) -> None:
    k8s = dev["k8s"]
    releases = _releases(k8s)
    assert set(releases) == {"metrics-server", "kube-prometheus-stack", "aws-load-balancer-controller",
                             "cluster-autoscaler"}
    assert all(r["version"] and r["repositoryOpts"]["repo"].startswith("https://") for r in releases.values())
    prom = releases["kube-prometheus-stack"]["values"]
    assert prom["prometheus"]["prometheusSpec"]["serviceMonitorSelectorNilUsesHelmValues"] is False
    assert prom["grafana"]["sidecar"]["dashboards"]["label"] == "grafana_dashboard"
    assert not [o for _, o in k8s_objects(k8s) if o["kind"] == "Application"]  # no Argo CD, no second owner
    assert len([o for _, o in k8s_objects(k8s) if o["kind"] == "ServiceMonitor"]) == len(TOPOLOGY.services)
    assert dev["k8s"].exports["gitops_owner"] == "pulumi"


def test_with_argocd_as_owner_pulumi_applies_no_workload(prod: dict[str, Run], prod_cfg: ProgramConfig) -> None:
    k8s = prod["k8s"]
    assert "argo-cd" in _releases(k8s)
    app = _obj(k8s, "Application", "ecomctl")["spec"]
    assert app["source"] == {"repoURL": "https://git.example/shop-deploy.git",
                             "targetRevision": prod_cfg.gitops_revision, "path": prod_cfg.gitops_path,
                             "directory": {"recurse": False}}
    assert app["destination"]["namespace"] == "ecomctl"
    applied = {o["kind"] for _, o in k8s_objects(k8s) if o["metadata"].get("namespace") == "ecomctl"
               and o["metadata"]["name"] != "mysql-bootstrap"}  # the Job's own policy is a stack object
    assert not applied & WORKLOAD_KINDS, applied & WORKLOAD_KINDS
    assert {"ConfigMap", "Secret"} <= applied  # stack values never go to git
    _obj(k8s, "Job", "mysql-bootstrap")


def test_argocd_without_a_repository_is_refused(dev_cfg: ProgramConfig, dev: dict[str, Run]) -> None:
    import dataclasses

    from programs.kubernetes import k8s_program

    cfg = dataclasses.replace(dev_cfg, gitops_owner="argocd")
    upstream = {f"aws.{k}": v for k, v in dev["aws"].exports.items()}
    with pytest.raises(Exception, match="gitops_repo_url"):
        run(lambda: k8s_program(cfg, upstream))


def test_grafana_gets_a_generated_admin_password(dev: dict[str, Run]) -> None:
    k8s = dev["k8s"]
    grafana = _releases(k8s)["kube-prometheus-stack"]["values"]["grafana"]
    secret = _obj(k8s, "Secret", grafana["admin"]["existingSecret"])
    password = secret["stringData"][grafana["admin"]["passwordKey"]]
    assert secret["metadata"]["namespace"] == "monitoring" and grafana["admin"]["userKey"] in secret["stringData"]
    generator = k8s.one("random:index/randomPassword:RandomPassword", "grafana-admin").inputs
    assert password != "prom-operator" and generator["length"] >= 24  # not the chart's default
    assert "grafana_admin_password" in k8s.secret_exports and k8s.exports["grafana_admin_password"] == password
    assert "adminPassword" not in grafana


def test_node_autoscaler_runs_on_its_role_and_can_be_left_out(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    import dataclasses

    from programs.kubernetes import controller_values

    values = _releases(dev["k8s"])["cluster-autoscaler"]["values"]
    roles = dev["aws"].exports["controller_role_arns"]
    assert values["autoDiscovery"]["clusterName"] == dev["aws"].exports["cluster_name"]
    assert values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == roles["cluster-autoscaler"]
    upstream = {f"aws.{k}": v for k, v in dev["aws"].exports.items()}
    assert "cluster-autoscaler" not in controller_values(dataclasses.replace(dev_cfg, node_autoscaler="none"), upstream)
    with pytest.raises(ValueError, match="node_autoscaler"):
        controller_values(dataclasses.replace(dev_cfg, node_autoscaler="karpentr"), upstream)
    ng = dev["aws"].one("aws:eks/nodeGroup:NodeGroup").inputs["scalingConfig"]
    assert ng["maxSize"] > ng["desiredSize"]  # room for the autoscaler to add nodes


def test_services_with_a_database_connect_over_verified_tls(dev: dict[str, Run]) -> None:
    for service in TOPOLOGY.services:
        data = _obj(dev["k8s"], "ConfigMap", f"{service.name}-config")["data"]
        assert (data.get("MYSQL_TLS") == "verify") == (service.database is not None), service.name


def test_admin_uis_internal_unless_admin_cidrs(dev: dict[str, Run], prod: dict[str, Run]) -> None:
    dev_entry = _obj(dev["k8s"], "Service", "grafana-entry")
    assert dev_entry["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"
    prod_entry = _obj(prod["k8s"], "Service", "argocd-entry")
    assert prod_entry["spec"]["loadBalancerSourceRanges"] == ["198.51.100.0/24"]
    assert not [o for _, o in k8s_objects(dev["k8s"]) if o["metadata"]["name"] == "argocd-entry"]


def test_operator_outputs(dev: dict[str, Run], prod: dict[str, Run]) -> None:
    out = dev["k8s"].exports
    assert out["storefront_url"] == "http://shop.example.com"  # no certificate: plain HTTP
    assert prod["k8s"].exports["storefront_url"] == "https://shop.example.com"
    assert out["grafana_url"].startswith("http://") and out["argocd_url"] == ""
    assert prod["k8s"].exports["argocd_url"].startswith("https://")
    assert out["cluster_name"] == dev["aws"].exports["cluster_name"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_no_output_was_turned_into_text(dev: dict[str, Run], prod: dict[str, Run]) -> None:
    """``str(Output)`` yields a warning text, not the value: it must never reach a resource."""
    for runs in (dev, prod):
        for stage_run in runs.values():
            for rec in stage_run.resources:
                assert not any("Output[T]" in s for s in _strings(rec.inputs)), rec.name


def test_k8s_stage_needs_the_aws_outputs(dev_cfg: ProgramConfig) -> None:
    from programs.kubernetes import k8s_program

    with pytest.raises(ValueError, match="aws stage"):
        k8s_program(dev_cfg, {"aws.kubeconfig": "{}"})
