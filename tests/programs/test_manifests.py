"""The pure manifests: schema-valid for the target Kubernetes version, and true to the topology."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import kubernetes_validate
import pytest

from blueprint.topology import TOPOLOGY, Service
from blueprint.wiring import service_env
from programs import manifests as m
from programs.config import ProgramConfig
from programs.manifests._values import key_endpoints
from tests.programs.k8s_schema import validate

VALUES = m.ManifestValues(image_repositories={s.name: f"registry.example/{s.name}" for s in TOPOLOGY.services},
                          image_tag="3f2a9c1", role_arns={"products": "arn:aws:iam::1:role/products"})
CERT = "arn:aws:acm:us-east-1:1:certificate/0b6e"
GITOPS = dataclasses.replace(VALUES, gitops_owner="argocd", gitops_repo_url="https://git.example/shop.git",
                             public_certificate_arn=CERT)
K8S_VERSION = ProgramConfig.for_stack("dev").kubernetes_version


def all_objects() -> list[dict]:
    return [*m.platform_objects(TOPOLOGY, VALUES), *m.admin_entries(VALUES), *m.admin_entries(GITOPS),
            m.argocd_application(TOPOLOGY, GITOPS), *(o for o in m.platform_objects(TOPOLOGY, GITOPS)
                                                     if o["kind"] == "Ingress"),
            m.namespace("ecomctl"), m.mysql_bootstrap_job("mysql-bootstrap", "mysql-bootstrap", VALUES),
            m.mysql_bootstrap_policy(VALUES)]


@pytest.mark.parametrize("obj", all_objects(), ids=lambda o: f"{o['kind']}/{o['metadata']['name']}")
def test_every_object_validates_against_the_target_schema(obj: dict) -> None:
    validate(obj, K8S_VERSION)


def test_schema_check_rejects_a_broken_object() -> None:
    broken = m.deployment(TOPOLOGY.services[0], TOPOLOGY, VALUES)
    broken["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = {"nope": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken, K8S_VERSION)


def _by(kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in m.platform_objects(TOPOLOGY, VALUES) if o["kind"] == kind}


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_hpa_targets_an_existing_deployment_with_the_topology_bounds(service: Service) -> None:
    hpa = _by("HorizontalPodAutoscaler")[service.name]["spec"]
    target = _by("Deployment")[hpa["scaleTargetRef"]["name"]]
    assert hpa["scaleTargetRef"]["kind"] == target["kind"] and hpa["scaleTargetRef"]["apiVersion"] == "apps/v1"
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (service.min_replicas, service.max_replicas)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == service.cpu_target
    assert "replicas" not in target["spec"]  # the HPA owns the count: an apply never resets it


def test_no_workload_under_an_hpa_sets_replicas() -> None:
    objs = m.platform_objects(TOPOLOGY, VALUES)
    scaled = {(o["metadata"]["namespace"], o["spec"]["scaleTargetRef"]["name"]) for o in objs
              if o["kind"] == "HorizontalPodAutoscaler"}
    workloads = [o for o in objs if o["kind"] in ("Deployment", "StatefulSet")]
    assert scaled and scaled <= {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in workloads}
    assert [o["metadata"]["name"] for o in workloads
            if (o["metadata"]["namespace"], o["metadata"]["name"]) in scaled and "replicas" in o["spec"]] == []


def _paths(ingress: dict) -> dict[str, dict]:
    return {p["path"]: p["backend"]["service"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}


def test_the_public_alb_forwards_to_the_gateway_and_never_routes_metrics() -> None:
    (ingress,) = [o for o in m.platform_objects(TOPOLOGY, VALUES) if o["kind"] == "Ingress"]
    annotations = ingress["metadata"]["annotations"]
    paths = _paths(ingress)
    assert paths["/"] == {"name": TOPOLOGY.gateway, "port": {"name": "http"}}
    blocked = paths["/metrics"]
    assert blocked["port"] == {"name": "use-annotation"}  # the ALB answers it itself
    action = json.loads(annotations[f"alb.ingress.kubernetes.io/actions.{blocked['name']}"])
    assert action["type"] == "fixed-response" and action["fixedResponseConfig"]["statusCode"] == "404"
    # the ALB (aws-load-balancer-controller) puts rules in path order: /metrics is matched before /
    order = [p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert order.index("/metrics") < order.index("/")
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    assert "alb.ingress.kubernetes.io/certificate-arn" not in annotations


def test_a_certificate_turns_on_https_and_redirects_http() -> None:
    (ingress,) = [o for o in m.platform_objects(TOPOLOGY, GITOPS) if o["kind"] == "Ingress"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == CERT
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"


def test_argocd_needs_a_real_repository() -> None:
    with pytest.raises(ValueError, match="gitops_repo_url"):
        m.argocd_application(TOPOLOGY, dataclasses.replace(VALUES, gitops_owner="argocd"))
    assert m.argocd_application(TOPOLOGY, GITOPS)["spec"]["source"]["repoURL"] == "https://git.example/shop.git"
    assert [e["metadata"]["name"] for e in m.admin_entries(VALUES)] == ["grafana-entry"]
    assert [e["metadata"]["name"] for e in m.admin_entries(GITOPS)] == ["grafana-entry", "argocd-entry"]


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_deployment_is_hardened_and_probed(service: Service) -> None:
    pod = _by("Deployment")[service.name]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    sc = c["securityContext"]
    assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/health" and c["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert c["resources"]["requests"]["cpu"] == f"{service.cpu_request_m}m"
    assert c["resources"]["limits"]["memory"] == f"{service.memory_limit_mi}Mi"
    assert c["ports"][0]["containerPort"] == service.port
    assert c["image"] == f"registry.example/{service.name}:3f2a9c1"
    assert pod["serviceAccountName"] == service.name
    # every key the service reads arrives: the non-secret ones through its ConfigMap, secrets by reference
    keys = set(service_env(service, key_endpoints(TOPOLOGY), TOPOLOGY))
    secret_refs = {e["name"] for e in c["env"]}
    assert secret_refs == keys & m.SECRET_ENV_KEYS
    assert c["envFrom"] == [{"configMapRef": {"name": f"{service.name}-config"}}]
    assert all(e["valueFrom"]["secretKeyRef"]["name"] == f"{service.name}-secrets" for e in c["env"])


def test_split_env_keeps_secrets_out_of_config_maps() -> None:
    env = {"PORT": "8000", "JWT_SECRET": "s", "MYSQL_PASSWORD": "p", "MYSQL_HOST": "h"}
    config, secret = m.split_env(env)
    assert config == {"PORT": "8000", "MYSQL_HOST": "h"} and secret == {"JWT_SECRET": "s", "MYSQL_PASSWORD": "p"}


def test_pdb_and_services_select_the_deployments_pods() -> None:
    deployments = _by("Deployment")
    for name, pdb in _by("PodDisruptionBudget").items():
        assert pdb["spec"]["selector"]["matchLabels"] == deployments[name]["spec"]["template"]["metadata"]["labels"]
    services = [o for o in m.platform_objects(TOPOLOGY, VALUES) if o["kind"] == "Service"]
    assert [s for s in services if s["spec"]["type"] == "LoadBalancer"] == []
    ingresses = [o for o in m.platform_objects(TOPOLOGY, VALUES) if o["kind"] == "Ingress"]
    assert [i["metadata"]["name"] for i in ingresses] == [f"{TOPOLOGY.gateway}-public"]  # the only public entry


def test_network_policies_default_deny_and_the_platform_paths() -> None:
    policies = _by("NetworkPolicy")
    assert policies["default-deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    gateway = TOPOLOGY.service(TOPOLOGY.gateway)
    for service in TOPOLOGY.services:
        spec = policies[service.name]["spec"]
        from_pods = [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                     for rule in spec["ingress"] for p in rule["from"] if "podSelector" in p]
        assert from_pods == ([gateway.name] if service.name in gateway.upstreams else [])
        open_ingress = [r for r in spec["ingress"] if any("ipBlock" in p for p in r["from"])]
        assert bool(open_ingress) == service.public
        egress_pods = {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                       for rule in spec["egress"] for p in rule["to"] if "podSelector" in p}
        assert egress_pods == set(service.upstreams)
        ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
        assert (3306 in ports) == (service.database is not None)
        assert (m.KAFKA_PORT in ports) == bool(service.produces or service.consumes)


def test_monitoring_service_monitors_and_dashboard() -> None:
    monitors = _by("ServiceMonitor")
    assert set(monitors) == {s.name for s in TOPOLOGY.services}
    assert all(mon["spec"]["endpoints"][0]["path"] == "/metrics" for mon in monitors.values())
    dashboard = m.dashboard(TOPOLOGY, VALUES)
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert all(p["targets"] for p in dashboard["panels"])
    cm = m.dashboard_config_map(TOPOLOGY, VALUES)
    assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(next(iter(cm["data"].values())))["uid"] == dashboard["uid"]


def test_write_manifests_writes_every_object_once(tmp_path: Path) -> None:
    paths = m.write_manifests(TOPOLOGY, tmp_path / "k8s", VALUES)
    objs = m.platform_objects(TOPOLOGY, VALUES)
    assert len(paths) == len(objs) == len(set(paths))
    def key(o: dict) -> str:
        return json.dumps(o, sort_keys=True)

    assert sorted(map(key, (json.loads(p.read_text()) for p in paths))) == sorted(map(key, objs))
    assert not any(o["kind"] in ("Secret", "ConfigMap") and o["metadata"]["namespace"] == "ecomctl" for o in objs)
    again = m.write_manifests(TOPOLOGY, tmp_path / "k8s", VALUES)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_mysql_bootstrap_sql_refuses_what_it_cannot_quote() -> None:
    with pytest.raises(ValueError, match="NUL"):
        m.mysql_bootstrap_sql({"users": ("users_svc", "a\0b")})
    with pytest.raises(ValueError, match="identifier"):
        m.mysql_bootstrap_sql({"users`; DROP": ("users_svc", "pw")})


def test_values_from_stack_outputs_name_the_pushed_images() -> None:
    cfg = ProgramConfig.for_stack("dev", image_tag="3f2a9c1")
    outputs = {"ecr_repositories": {s.name: f"1.dkr.ecr/ecomctl-dev-{s.name}" for s in TOPOLOGY.services},
               "service_role_arns": {"orders": "arn:aws:iam::1:role/orders"}, "vpc_cidr": "10.9.0.0/16"}
    values = m.ManifestValues.from_stack(cfg, outputs)
    assert values.image("orders") == "1.dkr.ecr/ecomctl-dev-orders:3f2a9c1"
    assert values.role_arns == {"orders": "arn:aws:iam::1:role/orders"} and values.vpc_cidr == "10.9.0.0/16"
