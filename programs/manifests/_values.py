"""The small values object the manifests depend on besides the topology, and the env split."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprint.topology import Service, Topology
from blueprint.wiring import Endpoints, KafkaEndpoint, MysqlEndpoint, service_env
from programs.config import ProgramConfig

SECRET_ENV_KEYS = frozenset({"JWT_SECRET", "MYSQL_PASSWORD", "KAFKA_SASL_PASSWORD", "ADMIN_PASSWORD"})
"""Env keys that go to a Secret (by reference); every other key goes to the service's ConfigMap."""

KAFKA_PORT = 9096  # MSK: SASL/SCRAM over TLS, the only listener the platform uses
MYSQL_PORT = 3306
PART_OF = "ecomctl"


@dataclass(frozen=True)
class ManifestValues:
    """Where the images are and how the objects are named; everything else is the topology."""

    image_repositories: Mapping[str, str]  # service name -> repository URL (no tag)
    image_tag: str
    namespace: str = "ecomctl"
    monitoring_namespace: str = "monitoring"
    argocd_namespace: str = "argocd"
    monitoring_release: str = "kube-prometheus-stack"
    vpc_cidr: str = "10.40.0.0/16"
    role_arns: Mapping[str, str] = field(default_factory=dict)  # service name -> IRSA role ARN
    admin_cidrs: tuple[str, ...] = ()
    public_certificate_arn: str = ""  # ACM: HTTPS on the storefront's ALB, HTTP redirected
    gitops_owner: str = "pulumi"  # "pulumi" applies the workloads; "argocd" syncs them from git
    gitops_repo_url: str = ""
    gitops_revision: str = "main"
    gitops_path: str = "deploy/k8s"

    @classmethod
    def from_stack(cls, cfg: ProgramConfig, aws_outputs: Mapping[str, Any]) -> ManifestValues:
        """The values of a deployed stack: ``aws_outputs`` are the aws stage's outputs (unprefixed).
        ``ecomctl render --stack`` and the k8s stage both use this, so Argo CD and Pulumi apply
        identical objects."""
        repos = aws_outputs.get("ecr_repositories") or {}
        return cls(
            image_repositories=dict(repos),
            image_tag=str(aws_outputs.get("image_tag") or cfg.image_tag),
            vpc_cidr=str(aws_outputs.get("vpc_cidr") or cfg.vpc_cidr),
            role_arns=dict(aws_outputs.get("service_role_arns") or {}),
            admin_cidrs=cfg.admin_cidrs,
            public_certificate_arn=cfg.public_certificate_arn,
            gitops_owner=cfg.gitops_owner,
            gitops_repo_url=cfg.gitops_repo_url,
            gitops_revision=cfg.gitops_revision,
            gitops_path=cfg.gitops_path,
        )

    def image(self, service: str) -> str:
        return f"{self.image_repositories[service]}:{self.image_tag}"

    @staticmethod
    def config_name(service: str) -> str:
        return f"{service}-config"

    @staticmethod
    def secret_name(service: str) -> str:
        return f"{service}-secrets"

    @staticmethod
    def service_account(service: str) -> str:
        return service


def labels(service: str) -> dict[str, str]:
    """The selector labels of a service's pods."""
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": PART_OF}


def meta(name: str, namespace: str, extra_labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/part-of": PART_OF,
                                                             **(extra_labels or {})}}


def split_env(env: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``service_env`` output -> (ConfigMap data, Secret data)."""
    config = {k: v for k, v in env.items() if k not in SECRET_ENV_KEYS}
    secret = {k: v for k, v in env.items() if k in SECRET_ENV_KEYS}
    return config, secret


def key_endpoints(topology: Topology) -> Endpoints:
    """Endpoints whose values are placeholders: enough to learn which keys a service reads."""
    names = [s.name for s in topology.services]
    return Endpoints(
        mysql=MysqlEndpoint(host="", port=MYSQL_PORT, passwords={d.name: "" for d in topology.databases}),
        kafka=KafkaEndpoint(bootstrap_servers="", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                            sasl_username="", sasl_password=""),
        aws_region="",
        service_urls=dict.fromkeys(names, ""),
        bind_host="0.0.0.0",
        service_ports={s.name: s.port for s in topology.services},
        jwt_secret="",
        admin_email="",
        admin_password="",
        queue_urls={q.name: "" for q in topology.queues},
        sns_topic_arns={n.name: "" for n in topology.notification_topics},
    )


def secret_keys(service: Service, topology: Topology) -> list[str]:
    """The Secret keys ``service``'s container reads, sorted."""
    return sorted(k for k in service_env(service, key_endpoints(topology), topology) if k in SECRET_ENV_KEYS)


def uses_aws(service: Service) -> bool:
    return bool(service.tables or service.buckets or service.queues or service.notification_topics)
