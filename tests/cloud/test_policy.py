"""Every policy rule fires on a violating configuration and stays quiet on a compliant one."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ecomctl.cloud.offline import Resource
from ecomctl.cloud.policy import RULES, evaluate

AWS_RDS = "aws:rds/instance:Instance"
EKS = "aws:eks/cluster:Cluster"
SG = "aws:ec2/securityGroup:SecurityGroup"
BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
DEPLOY = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


def res(type_: str, name: str, **inputs: Any) -> Resource:
    return Resource("test", type_, name, inputs)


def container(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "app", "image": "123.dkr.ecr.us-east-1.amazonaws.com/orders:3f9c2a1",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8003}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8003}},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def deployment(name: str = "orders", replicas: int | None = None, **overrides: Any) -> Resource:
    spec: dict[str, Any] = {"template": {"spec": {"containers": [container(**overrides)]}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return res(DEPLOY, name, metadata={"name": name, "namespace": "ecomctl"}, spec=spec)


def hpa(target: str = "orders") -> Resource:
    return res(HPA, target, metadata={"name": target, "namespace": "ecomctl"},
               spec={"scaleTargetRef": {"kind": "Deployment", "name": target}, "minReplicas": 2, "maxReplicas": 8})


METRICS = res("aws:eks/addon:Addon", "metrics", addonName="metrics-server")


def compliant() -> list[Resource]:
    """A small platform that every rule accepts."""
    return [
        res(AWS_RDS, "mysql", storageEncrypted=True, publiclyAccessible=False, backupRetentionPeriod=7),
        res("aws:dynamodb/table:Table", "products", serverSideEncryption={"enabled": True},
            pointInTimeRecovery={"enabled": True}),
        res(EKS, "eks", encryptionConfig={"resources": ["secrets"]},
            vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}),
        res("aws:sns/topic:Topic", "orders", kmsMasterKeyId="key"),
        res("aws:sqs/queue:Queue", "uploads", kmsMasterKeyId="key"),
        res(BUCKET, "data", bucket="ecomctl-dev-data"),
        res(PAB, "data", bucket="data-id", blockPublicAcls=True, blockPublicPolicy=True,
            ignorePublicAcls=True, restrictPublicBuckets=True),
        res(SSE, "data", bucket="data-id", rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]),
        res("aws:msk/cluster:Cluster", "kafka",
            encryptionInfo={"encryptionInTransit": {"clientBroker": "TLS", "inCluster": True}}),
        res(SG, "lb", ingress=[{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}]),
        res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rds-from-eks",
            ipProtocol="tcp", fromPort=3306, toPort=3306, referencedSecurityGroupId="sg-eks"),
        res("gcp:compute/firewall:Firewall", "deny-all", direction="INGRESS", sourceRanges=["0.0.0.0/0"],
            denies=[{"protocol": "all"}]),
        res("gcp:storage/bucket:Bucket", "jobs", publicAccessPrevention="enforced", uniformBucketLevelAccess=True),
        res("aws:iam/rolePolicy:RolePolicy", "orders", policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
             "Resource": "arn:aws:dynamodb:us-east-1:123:table/products"}]})),
        res("gcp:projects/iAMMember:IAMMember", "dataproc-worker", role="roles/dataproc.worker"),
        res("kubernetes:core/v1:Service", "grafana-entry", spec={
            "type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "grafana"},
            "loadBalancerSourceRanges": ["203.0.113.0/24"], "ports": [{"port": 80}]}),
        res("kubernetes:core/v1:Service", "api-gateway-public", spec={
            "type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "api-gateway"}, "ports": [{"port": 80}]}),
        deployment(),
        hpa(),
        METRICS,
    ]


def rules_fired(resources: list[Resource]) -> set[str]:
    return {v.rule for v in evaluate(resources)}


def test_the_compliant_platform_has_no_violations() -> None:
    assert evaluate(compliant()) == []


def test_rule_names_are_unique_and_documented() -> None:
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert all(r.description and r.category in {"security", "reliability"} for r in RULES)


def _replace(resources: list[Resource], name: str, replacement: Resource | None) -> list[Resource]:
    out = [r for r in resources if r.name != name or r.type != (replacement.type if replacement else r.type)]
    return out + ([replacement] if replacement else [])


VIOLATIONS: dict[str, list[tuple[str, Resource | None, str]]] = {
    # rule -> [(name of the compliant resource to replace, its violating version, words of the message)]
    "encryption-at-rest": [
        ("mysql", res(AWS_RDS, "mysql", storageEncrypted=False, backupRetentionPeriod=7), "storage_encrypted"),
        ("products", res("aws:dynamodb/table:Table", "products", serverSideEncryption={"enabled": False},
                         pointInTimeRecovery={"enabled": True}), "server-side encryption"),
        ("eks", res(EKS, "eks", vpcConfig={"endpointPublicAccess": False}), "secrets"),
        ("orders", res("aws:sns/topic:Topic", "orders"), "kms_master_key_id"),
        ("uploads", res("aws:sqs/queue:Queue", "uploads"), "sqs_managed_sse_enabled"),
    ],
    "encryption-in-transit": [
        ("kafka", res("aws:msk/cluster:Cluster", "kafka",
                      encryptionInfo={"encryptionInTransit": {"clientBroker": "TLS_PLAINTEXT"}}), "TLS only"),
    ],
    "no-world-open-ingress": [
        ("lb", res(SG, "lb", ingress=[{"protocol": "tcp", "fromPort": 3306, "toPort": 3306,
                                       "cidrBlocks": ["0.0.0.0/0"]}]), "port 3306"),
        ("rds-from-eks", res("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rds-from-eks",
                             ipProtocol="tcp", fromPort=9096, toPort=9098, cidrIpv4="0.0.0.0/0"), "ports 9096-9098"),
        ("mysql", res(AWS_RDS, "mysql", storageEncrypted=True, publiclyAccessible=True, backupRetentionPeriod=7),
         "publicly accessible"),
        ("deny-all", res("gcp:compute/firewall:Firewall", "deny-all", direction="INGRESS",
                         sourceRanges=["0.0.0.0/0"], allows=[{"protocol": "tcp", "ports": ["22"]}]), "whole internet"),
    ],
    "operator-uis-restricted": [
        ("grafana-entry", res("kubernetes:core/v1:Service", "grafana-entry", spec={
            "type": "LoadBalancer", "selector": {"app.kubernetes.io/name": "grafana"},
            "loadBalancerSourceRanges": ["0.0.0.0/0"], "ports": [{"port": 80}]}), "'grafana' admits 0.0.0.0/0"),
    ],
    "private-cluster-api": [
        ("eks", res(EKS, "eks", encryptionConfig={"resources": ["secrets"]},
                    vpcConfig={"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}),
         "open to the internet"),
    ],
    "private-buckets": [
        ("data", res(BUCKET, "data", bucket="ecomctl-dev-data", acl="public-read"), "public"),
        ("data", res(PAB, "data", bucket="data-id", blockPublicAcls=True, blockPublicPolicy=False,
                     ignorePublicAcls=True, restrictPublicBuckets=True), "public-access block"),
        ("jobs", res("gcp:storage/bucket:Bucket", "jobs", uniformBucketLevelAccess=True), "public_access_prevention"),
    ],
    "least-privilege-iam": [
        ("orders", res("aws:iam/rolePolicy:RolePolicy", "orders", policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]})), "wildcard action dynamodb:*"),
        ("orders", res("aws:iam/rolePolicy:RolePolicy", "orders", policy={"Statement": [
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}]}), "Resource '*'"),
        ("admin", res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "admin",
                      policyArn="arn:aws:iam::aws:policy/AdministratorAccess"), "AdministratorAccess"),
        ("dataproc-worker", res("gcp:projects/iAMMember:IAMMember", "dataproc-worker", role="roles/editor"),
         "roles/editor"),
    ],
    "probes-and-limits": [
        ("orders", deployment(resources={"requests": {"cpu": "100m", "memory": "128Mi"}}), "no cpu limit"),
        ("orders", deployment(readinessProbe=None), "no readinessProbe"),
        ("orders", deployment(livenessProbe=None), "no livenessProbe"),
    ],
    "no-latest-image-tag": [
        ("orders", deployment(image="123.dkr.ecr.us-east-1.amazonaws.com/orders:latest"), "no pinned tag"),
        ("orders", deployment(image="registry:5000/orders"), "no pinned tag"),
    ],
    "hpa-metrics-available": [
        ("metrics", None, "no metrics server"),
        ("orders", deployment(resources={"requests": {"memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}),
         "without a CPU request"),
    ],
    "hpa-owns-replicas": [
        ("orders", deployment(replicas=2), "while an HPA owns the replica count"),
    ],
    "backups-enabled": [
        ("mysql", res(AWS_RDS, "mysql", storageEncrypted=True, backupRetentionPeriod=0), "automated backups are off"),
        ("products", res("aws:dynamodb/table:Table", "products"), "point-in-time recovery"),
    ],
}


def test_every_rule_has_a_violating_case() -> None:
    assert set(VIOLATIONS) == {r.name for r in RULES}


@pytest.mark.parametrize(
    ("rule", "name", "bad", "words"),
    [(rule, *case) for rule, cases in VIOLATIONS.items() for case in cases],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_rule_fires_on_a_violating_configuration(rule: str, name: str, bad: Resource | None, words: str) -> None:
    resources = [r for r in compliant() if not (r.name == name and (bad is None or r.type == bad.type))]
    if bad is not None:
        resources.append(bad)
    found = [v for v in evaluate(resources) if v.rule == rule]
    assert found, f"{rule} did not fire"
    assert any(words in v.message for v in found), [v.message for v in found]
    if bad is not None:
        assert any(v.resource == f"{bad.type} {bad.name}" or v.resource.endswith(bad.name) for v in found)


def test_a_workload_no_hpa_scales_may_set_replicas() -> None:
    assert evaluate([*compliant(), deployment("worker", replicas=3)]) == []


def test_xray_may_name_every_resource_but_other_writes_may_not() -> None:
    tracing = res("aws:iam/rolePolicy:RolePolicy", "fn", policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": ["*"]}]}))
    assert evaluate([*compliant(), tracing]) == []
    mixed = res("aws:iam/rolePolicy:RolePolicy", "fn", policy=json.dumps({"Statement": [
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "logs:PutLogEvents"], "Resource": ["*"]}]}))
    assert rules_fired([*compliant(), mixed]) == {"least-privilege-iam"}


def _step(op: str, resource: Resource) -> dict[str, Any]:
    urn = f"urn:pulumi:dev::ecomctl-aws::{resource.type}::{resource.name}"
    return {"op": op, "urn": urn, "newState": {"urn": urn, "type": resource.type, "custom": True,
                                               "inputs": dict(resource.inputs)}}


def test_a_real_previews_plan_is_judged_by_the_same_rules() -> None:
    """``pulumi preview --json``: steps with each resource's new state; deletions leave nothing."""
    from ecomctl.cloud.policy import UNKNOWN, evaluate_preview

    good = {"steps": [_step("create" if i % 2 else "same", r) for i, r in enumerate(compliant())]}
    assert evaluate_preview(good) == []
    open_db = res(AWS_RDS, "mysql", storageEncrypted=True, publiclyAccessible=True, backupRetentionPeriod=7,
                  endpoint=UNKNOWN)
    bad = {"steps": [*good["steps"], _step("update", open_db)]}
    assert {v.rule for v in evaluate_preview(bad)} == {"no-world-open-ingress"}
    gone = {"steps": [*good["steps"], _step("delete", open_db)]}
    assert evaluate_preview(gone) == []


def test_a_web_port_open_to_the_world_is_allowed_but_a_range_is_not() -> None:
    web = res(SG, "lb", ingress=[{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}])
    wide = res(SG, "lb", ingress=[{"protocol": "tcp", "fromPort": 80, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}])
    everything = res(SG, "lb", ingress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["::/0"]}])
    assert rules_fired([web]) == set()
    assert rules_fired([wide]) == {"no-world-open-ingress"}
    assert rules_fired([everything]) == {"no-world-open-ingress"}


def test_digest_pinned_images_pass() -> None:
    pinned = deployment(image="repo/orders@sha256:" + "ab" * 32)
    assert "no-latest-image-tag" not in rules_fired([*compliant()[:-3], pinned, hpa(), METRICS])
