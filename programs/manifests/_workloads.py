"""Per-service workload objects: ServiceAccount, Deployment, Service, HPA, PodDisruptionBudget, and
the public service's Ingress (an ALB run by the AWS Load Balancer Controller).

A Deployment sets no ``replicas``: its HPA owns the count (``minReplicas`` on creation), so an
apply never resets what the autoscaler chose."""

from __future__ import annotations

import json
from typing import Any

from blueprint.topology import Service, Topology

from ._values import ManifestValues, labels, meta, secret_keys

NON_ROOT_UID = 10001


def service_account(service: Service, values: ManifestValues) -> dict[str, Any]:
    metadata = meta(values.service_account(service.name), values.namespace, labels(service.name))
    role = values.role_arns.get(service.name)
    if role:
        metadata["annotations"] = {"eks.amazonaws.com/role-arn": role}
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata,
            "automountServiceAccountToken": False}


def _probe(path: str, period: int, failures: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period,
            "timeoutSeconds": 2, "failureThreshold": failures}


def container_security_context() -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": NON_ROOT_UID, "runAsGroup": NON_ROOT_UID,
            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def deployment(service: Service, topology: Topology, values: ManifestValues) -> dict[str, Any]:
    secret_env = [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": values.secret_name(service.name), "key": key}}}
        for key in secret_keys(service, topology)
    ]
    container: dict[str, Any] = {
        "name": service.name,
        "image": values.image(service.name),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": values.config_name(service.name)}}],
        "env": secret_env,
        "resources": {
            "requests": {"cpu": f"{service.cpu_request_m}m", "memory": f"{service.memory_request_mi}Mi"},
            "limits": {"cpu": f"{service.cpu_limit_m}m", "memory": f"{service.memory_limit_mi}Mi"},
        },
        "startupProbe": _probe("/health", 2, 30),
        "livenessProbe": _probe("/health", 10, 3),
        "readinessProbe": _probe("/ready", 5, 2),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(service.name, values.namespace, labels(service.name)),
        "spec": {
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": labels(service.name)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {"labels": labels(service.name)},
                "spec": {
                    "serviceAccountName": values.service_account(service.name),
                    "automountServiceAccountToken": False,
                    "securityContext": {"runAsNonRoot": True, "fsGroup": NON_ROOT_UID,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": labels(service.name)},
                    }],
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def cluster_service(service: Service, values: ManifestValues) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(service.name, values.namespace, labels(service.name)),
        "spec": {"type": "ClusterIP", "selector": labels(service.name),
                 "ports": [{"name": "http", "port": service.port, "targetPort": "http", "protocol": "TCP"}]},
    }


INGRESS_CLASS = "alb"
NOT_PUBLIC_PATHS = ("/metrics",)  # served to Prometheus inside the cluster, never through the ALB
_BLOCKED_ACTION = "not-public"


def public_entry(service: Service, values: ManifestValues) -> dict[str, Any]:
    """The public service's internet-facing ALB: HTTP on 80, or with ``public_certificate_arn``
    HTTPS on 443 and 80 redirected to it; ``NOT_PUBLIC_PATHS`` answer 404 at the ALB."""
    tls = bool(values.public_certificate_arn)
    annotations = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": "/ready",
        "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}] if tls else [{"HTTP": 80}]),
        f"alb.ingress.kubernetes.io/actions.{_BLOCKED_ACTION}": json.dumps({
            "type": "fixed-response", "fixedResponseConfig": {
                "contentType": "application/problem+json", "statusCode": "404",
                "messageBody": '{"title":"Not Found","status":404}'}}),
    }
    if tls:
        annotations.update({
            "alb.ingress.kubernetes.io/certificate-arn": values.public_certificate_arn,
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        })
    metadata = meta(f"{service.name}-public", values.namespace, labels(service.name))
    metadata["annotations"] = annotations
    blocked = [{"path": p, "pathType": "Prefix", "backend": {"service": {
        "name": _BLOCKED_ACTION, "port": {"name": "use-annotation"}}}} for p in NOT_PUBLIC_PATHS]
    forward = {"path": "/", "pathType": "Prefix", "backend": {"service": {
        "name": service.name, "port": {"name": "http"}}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": INGRESS_CLASS, "rules": [{"http": {"paths": [*blocked, forward]}}]},
    }


def autoscaler(service: Service, values: ManifestValues) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta(service.name, values.namespace, labels(service.name)),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": service.min_replicas,
            "maxReplicas": service.max_replicas,
            "metrics": [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": service.cpu_target}}}],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 120}},
        },
    }


def disruption_budget(service: Service, values: ManifestValues) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(service.name, values.namespace, labels(service.name)),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(service.name)}},
    }


def service_objects(service: Service, topology: Topology, values: ManifestValues) -> list[dict[str, Any]]:
    objs = [service_account(service, values), deployment(service, topology, values),
            cluster_service(service, values), autoscaler(service, values), disruption_budget(service, values)]
    if service.public:
        objs.append(public_entry(service, values))
    return objs
