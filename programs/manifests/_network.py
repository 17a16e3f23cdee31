"""NetworkPolicies: deny everything in the namespace, then admit exactly the paths the platform uses."""

from __future__ import annotations

from typing import Any

from blueprint.topology import Service, Topology

from ._values import KAFKA_PORT, MYSQL_PORT, ManifestValues, labels, meta, uses_aws

_ANYWHERE = "0.0.0.0/0"
_PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


def default_deny(values: ManifestValues) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta("default-deny", values.namespace),
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


def allow_dns(values: ManifestValues) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta("allow-dns", values.namespace),
            "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{
                "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}


def _tcp(port: int) -> dict[str, Any]:
    return {"protocol": "TCP", "port": port}


def service_policy(service: Service, topology: Topology, values: ManifestValues) -> dict[str, Any]:
    """What may reach ``service`` and what it may reach."""
    ingress: list[dict[str, Any]] = [{  # Prometheus scrapes /metrics
        "from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": values.monitoring_namespace}}}],
        "ports": [_tcp(service.port)]}]
    if service.public:  # the internet reaches it through the ALB, whose addresses are in the VPC
        ingress.append({"from": [{"ipBlock": {"cidr": values.vpc_cidr}}], "ports": [_tcp(service.port)]})
    callers = [s.name for s in topology.services if service.name in s.upstreams]
    if callers:
        ingress.append({"from": [{"podSelector": {"matchLabels": labels(c)}} for c in callers],
                        "ports": [_tcp(service.port)]})
    egress: list[dict[str, Any]] = [
        {"to": [{"podSelector": {"matchLabels": labels(up)}}], "ports": [_tcp(topology.service(up).port)]}
        for up in service.upstreams
    ]
    if service.database is not None:
        egress.append({"to": [{"ipBlock": {"cidr": values.vpc_cidr}}], "ports": [_tcp(MYSQL_PORT)]})
    if service.produces or service.consumes:
        egress.append({"to": [{"ipBlock": {"cidr": values.vpc_cidr}}], "ports": [_tcp(KAFKA_PORT)]})
    if uses_aws(service) or service.name in values.role_arns:
        # AWS APIs (DynamoDB, S3, SNS, SQS, STS for IRSA) are public HTTPS endpoints
        egress.append({"to": [{"ipBlock": {"cidr": _ANYWHERE, "except": list(_PRIVATE)}}],
                       "ports": [_tcp(443)]})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": meta(service.name, values.namespace, labels(service.name)),
            "spec": {"podSelector": {"matchLabels": labels(service.name)},
                     "policyTypes": ["Ingress", "Egress"], "ingress": ingress, "egress": egress}}


def network_policies(topology: Topology, values: ManifestValues) -> list[dict[str, Any]]:
    return [default_deny(values), allow_dns(values),
            *(service_policy(s, topology, values) for s in topology.services)]
