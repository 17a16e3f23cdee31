"""Security and reliability rules: plain functions over the resources a preview collected.

Each rule looks at the whole list (some need context, e.g. which bucket has a public-access
block) and yields ``Violation`` s. ``evaluate`` runs them all; ``RULES`` is the table the docs
and ``--json`` report. Inputs are as the provider receives them (camelCase keys).
The same rules judge a real preview: ``evaluate_preview`` reads the engine's own plan
(``pulumi preview --json``: every step's new state, inputs included) before ``up`` changes anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecomctl.cloud.offline import Resource, lookup

WORLD = {"0.0.0.0/0", "::/0"}
PUBLIC_WEB_PORTS = {80, 443}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}
BROAD_ROLES = {"roles/owner", "roles/editor"}
ADMIN_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")
# write actions IAM authorises on Resource "*" only (the service has no resource-level permissions)
NO_RESOURCE_LEVEL = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str  # "<type token> <name>"
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "resource": self.resource, "message": self.message}


@dataclass(frozen=True)
class Rule:
    name: str
    category: str  # "security" | "reliability"
    description: str
    check: Callable[[Sequence[Resource]], Iterable[Violation]]


def _v(rule: str, res: Resource, message: str) -> Violation:
    return Violation(rule, f"{res.type} {res.name}", message)


def _of(resources: Sequence[Resource], *types: str) -> Iterator[Resource]:
    return (r for r in resources if r.type in types)


# -- encryption -------------------------------------------------------------------------------
def encryption_at_rest(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "encryption-at-rest"
    for r in _of(resources, "aws:rds/instance:Instance", "aws:rds/cluster:Cluster"):
        if not r.get("storageEncrypted"):
            yield _v(rule, r, "storage_encrypted must be true")
    for r in _of(resources, "aws:dynamodb/table:Table"):
        if r.get("serverSideEncryption.enabled") is False:
            yield _v(rule, r, "server-side encryption must not be disabled")
    for r in _of(resources, "aws:eks/cluster:Cluster"):
        if "secrets" not in (r.get("encryptionConfig.resources") or []):
            yield _v(rule, r, "Kubernetes secrets must be envelope-encrypted with a KMS key (encryption_config)")
    for r in _of(resources, "aws:sns/topic:Topic"):
        if not r.get("kmsMasterKeyId"):
            yield _v(rule, r, "the topic needs kms_master_key_id")
    for r in _of(resources, "aws:sqs/queue:Queue"):
        if not r.get("kmsMasterKeyId") and r.get("sqsManagedSseEnabled") is not True:
            yield _v(rule, r, "the queue needs kms_master_key_id or sqs_managed_sse_enabled")
    buckets = list(_of(resources, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"))
    encrypted = _targets(resources, "aws:s3/bucketServerSideEncryptionConfiguration:"
                         "BucketServerSideEncryptionConfiguration", "bucket")
    encrypted |= _targets(resources, "aws:s3/bucketServerSideEncryptionConfigurationV2:"
                          "BucketServerSideEncryptionConfigurationV2", "bucket")
    for r in buckets:
        inline = r.get("serverSideEncryptionConfiguration")
        if not inline and not (_names(r) & encrypted):
            yield _v(rule, r, "the bucket has no server-side encryption configuration")


def encryption_in_transit(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "encryption-in-transit"
    for r in _of(resources, "aws:msk/cluster:Cluster"):
        if r.get("encryptionInfo.encryptionInTransit.clientBroker", "TLS") != "TLS":
            yield _v(rule, r, "client-broker traffic must be TLS only")
        if r.get("encryptionInfo.encryptionInTransit.inCluster") is False:
            yield _v(rule, r, "in-cluster traffic must be encrypted")


# -- network exposure -------------------------------------------------------------------------
def _ports(rule_like: Mapping[str, Any]) -> range:
    low = int(rule_like.get("fromPort", 0) or 0)
    high = int(rule_like.get("toPort", 65535) or 0)
    if str(rule_like.get("ipProtocol", rule_like.get("protocol", "tcp"))) == "-1":
        return range(0, 65536)
    return range(low, max(low, high) + 1)


def _world_open_beyond_web(cidrs: Iterable[str], ports: range) -> bool:
    """Open to the whole internet on anything but 80/443."""
    if not WORLD & set(cidrs):
        return False
    return len(ports) > len(PUBLIC_WEB_PORTS) or any(p not in PUBLIC_WEB_PORTS for p in ports)


def no_world_open_ingress(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Only a load balancer's 80/443 may face the internet; data stores and admin ports never."""
    rule = "no-world-open-ingress"
    for r in _of(resources, "aws:ec2/securityGroup:SecurityGroup"):
        for ing in r.get("ingress") or []:
            cidrs = list(ing.get("cidrBlocks") or []) + list(ing.get("ipv6CidrBlocks") or [])
            if _world_open_beyond_web(cidrs, _ports(ing)):
                yield _v(rule, r, f"ingress {_port_text(ing)} is open to the internet")
    for r in _of(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        cidrs = [c for c in (r.get("cidrIpv4"), r.get("cidrIpv6")) if c]
        if _world_open_beyond_web(cidrs, _ports(r.inputs)):
            yield _v(rule, r, f"ingress {_port_text(r.inputs)} is open to the internet")
    for r in _of(resources, "aws:ec2/securityGroupRule:SecurityGroupRule"):
        cidrs = list(r.get("cidrBlocks") or []) + list(r.get("ipv6CidrBlocks") or [])
        if r.get("type") == "ingress" and _world_open_beyond_web(cidrs, _ports(r.inputs)):
            yield _v(rule, r, f"ingress {_port_text(r.inputs)} is open to the internet")
    for r in _of(resources, "aws:rds/instance:Instance"):
        if r.get("publiclyAccessible"):
            yield _v(rule, r, "the database must not be publicly accessible")
    for r in _of(resources, "gcp:compute/firewall:Firewall"):
        admits = bool(r.get("allows")) and not r.get("disabled")
        if admits and r.get("direction", "INGRESS") == "INGRESS" and WORLD & set(r.get("sourceRanges") or []):
            yield _v(rule, r, "firewall admits the whole internet (source range 0.0.0.0/0)")


def private_cluster_api(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "private-cluster-api"
    for r in _of(resources, "aws:eks/cluster:Cluster"):
        if r.get("vpcConfig.endpointPublicAccess", True) is not False:
            cidrs = set(r.get("vpcConfig.publicAccessCidrs") or ["0.0.0.0/0"])
            if WORLD & cidrs:
                yield _v(rule, r, "the Kubernetes API endpoint is open to the internet: set admin_cidrs "
                                  "or disable the public endpoint")


def operator_uis_restricted(resources: Sequence[Resource]) -> Iterator[Violation]:
    """Only the public service of the topology (the storefront entry) may face the whole internet."""
    from blueprint.topology import TOPOLOGY

    public = {s.name for s in TOPOLOGY.services if s.public}
    rule = "operator-uis-restricted"
    for r in (x for x in resources if x.type == "kubernetes:core/v1:Service"):
        if r.get("spec.type") != "LoadBalancer":
            continue
        annotations = r.get("metadata.annotations") or {}
        internal = str(annotations.get("service.beta.kubernetes.io/aws-load-balancer-internal", "")).lower() == "true" \
            or annotations.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internal"
        selects = (r.get("spec.selector") or {}).get("app.kubernetes.io/name")
        ranges = set(r.get("spec.loadBalancerSourceRanges") or ["0.0.0.0/0"])
        if not internal and selects not in public and WORLD & ranges:
            yield _v(rule, r, f"internet-facing load balancer for {selects!r} admits 0.0.0.0/0: "
                              "set admin_cidrs to the operators' addresses")


def private_buckets(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "private-buckets"
    blocked = {
        n for r in _of(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        if all(r.get(k) is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                           "restrictPublicBuckets"))
        for n in _ref(r.get("bucket"))
    }
    for r in _of(resources, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        if str(r.get("acl", "private")).startswith("public"):
            yield _v(rule, r, f"bucket ACL {r.get('acl')!r} is public")
        if not (_names(r) & blocked):
            yield _v(rule, r, "the bucket has no public-access block with all four settings on")
    for r in _of(resources, "aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"):
        if str(r.get("acl", "")).startswith("public"):
            yield _v(rule, r, f"bucket ACL {r.get('acl')!r} is public")
    for r in _of(resources, "gcp:storage/bucket:Bucket"):
        if r.get("publicAccessPrevention") != "enforced" or r.get("uniformBucketLevelAccess") is not True:
            yield _v(rule, r, "GCS buckets need public_access_prevention=enforced and uniform access")


def least_privilege_iam(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "least-privilege-iam"
    for r in _of(resources, "aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy",
                 "aws:iam/userPolicy:UserPolicy", "aws:iam/groupPolicy:GroupPolicy"):
        for stmt in _statements(r.get("policy")):
            if stmt.get("Effect", "Allow") != "Allow":
                continue
            actions = _listify(stmt.get("Action"))
            if any(a == "*" or a.endswith(":*") for a in actions):
                yield _v(rule, r, f"wildcard action {', '.join(a for a in actions if a.endswith('*'))}")
            elif "*" in _listify(stmt.get("Resource")) and any(
                    _is_write(a) and a not in NO_RESOURCE_LEVEL for a in actions):
                yield _v(rule, r, "write actions on Resource '*'")
    for r in _of(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                 "aws:iam/userPolicyAttachment:UserPolicyAttachment"):
        arn = str(r.get("policyArn", ""))
        if arn.endswith(ADMIN_POLICIES):
            yield _v(rule, r, f"attaches {arn.rsplit('/', 1)[-1]}")
    for r in resources:
        gcp_iam = r.type.startswith("gcp:") and "IAM" in r.type
        if gcp_iam and r.get("role") in BROAD_ROLES:
            yield _v(rule, r, f"grants the basic role {r.get('role')}")


def _is_write(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return not verb.startswith(("Get", "List", "Describe", "Read", "Query", "Scan", "BatchGet", "Receive"))


# -- Kubernetes workloads -----------------------------------------------------------------------
def _containers(r: Resource) -> list[Mapping[str, Any]]:
    spec = r.get("spec") or {}
    if r.kind == "CronJob":
        spec = lookup(spec, "jobTemplate.spec", {}) or {}
    pod = lookup(spec, "template.spec", {}) or {}
    return [c for c in (pod.get("containers") or []) if isinstance(c, Mapping)]


def _workloads(resources: Sequence[Resource]) -> Iterator[Resource]:
    return (r for r in resources if r.type.startswith("kubernetes:") and r.kind in WORKLOAD_KINDS)


def probes_and_limits(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "probes-and-limits"
    for r in _workloads(resources):
        long_running = r.kind not in {"Job", "CronJob"}
        for c in _containers(r):
            name = c.get("name", "?")
            for kind in ("cpu", "memory"):
                if not lookup(c, f"resources.limits.{kind}"):
                    yield _v(rule, r, f"container {name}: no {kind} limit")
                if not lookup(c, f"resources.requests.{kind}"):
                    yield _v(rule, r, f"container {name}: no {kind} request")
            if long_running:
                for probe in ("readinessProbe", "livenessProbe"):
                    if not c.get(probe):
                        yield _v(rule, r, f"container {name}: no {probe}")


def no_latest_tags(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "no-latest-image-tag"
    for r in _workloads(resources):
        for c in _containers(r):
            image = str(c.get("image", ""))
            ref = image.split("@", 1)[0]
            tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else ""
            if "@sha256:" in image:
                continue
            if tag in ("", "latest"):
                yield _v(rule, r, f"container {c.get('name', '?')}: image {image!r} has no pinned tag")


def hpa_metrics(resources: Sequence[Resource]) -> Iterator[Violation]:
    """An HPA scales only if the metrics API exists and its target declares CPU requests."""
    rule = "hpa-metrics-available"
    hpas = [r for r in resources if r.type.startswith("kubernetes:autoscaling/") and
            r.type.endswith(":HorizontalPodAutoscaler")]
    if not hpas:
        return
    metrics = any(
        (r.type == "aws:eks/addon:Addon" and r.get("addonName") == "metrics-server")
        or ("metrics-server" in (str(r.get("chart", "")) + str(r.get("name", "")) + r.name)
            and (r.type.startswith("kubernetes:helm") or r.type.startswith("kubernetes:")))
        or (r.kind == "APIService" and r.name == "v1beta1.metrics.k8s.io")
        for r in resources
    )
    workloads = {(r.get("metadata.namespace"), r.get("metadata.name") or r.name): r for r in _workloads(resources)}
    for hpa in hpas:
        if not metrics:
            yield _v(rule, hpa, "no metrics server is deployed (EKS add-on or chart): the HPA cannot scale")
        target = hpa.get("spec.scaleTargetRef.name")
        workload = workloads.get((hpa.get("metadata.namespace"), target))
        if workload is None:
            yield _v(rule, hpa, f"scale target {target!r} is not deployed")
            continue
        if any(not lookup(c, "resources.requests.cpu") for c in _containers(workload)):
            yield _v(rule, hpa, f"scale target {target!r} has a container without a CPU request")


def hpa_owns_replicas(resources: Sequence[Resource]) -> Iterator[Violation]:
    """A workload an HPA scales sets no ``replicas``: every apply would reset the autoscaler's count."""
    rule = "hpa-owns-replicas"
    scaled = {(r.get("metadata.namespace"), r.get("spec.scaleTargetRef.name")) for r in resources
              if r.type.startswith("kubernetes:autoscaling/") and r.type.endswith(":HorizontalPodAutoscaler")}
    for r in _workloads(resources):
        key = (r.get("metadata.namespace"), r.get("metadata.name") or r.name)
        if key in scaled and r.get("spec.replicas") is not None:
            yield _v(rule, r, "sets spec.replicas while an HPA owns the replica count")


# -- reliability of the data stores ---------------------------------------------------------------
def backups(resources: Sequence[Resource]) -> Iterator[Violation]:
    rule = "backups-enabled"
    for r in _of(resources, "aws:rds/instance:Instance"):
        if int(r.get("backupRetentionPeriod", 0) or 0) < 1:
            yield _v(rule, r, "automated backups are off (backup_retention_period < 1)")
    for r in _of(resources, "aws:dynamodb/table:Table"):
        if r.get("pointInTimeRecovery.enabled") is not True:
            yield _v(rule, r, "point-in-time recovery is off")


RULES: tuple[Rule, ...] = (
    Rule("encryption-at-rest", "security", "RDS, DynamoDB, S3, SNS, SQS and Kubernetes secrets encrypted",
         encryption_at_rest),
    Rule("encryption-in-transit", "security", "Kafka (MSK) accepts TLS only", encryption_in_transit),
    Rule("no-world-open-ingress", "security",
         "nothing but a load balancer's 80/443 faces 0.0.0.0/0; databases never public", no_world_open_ingress),
    Rule("operator-uis-restricted", "security",
         "Grafana, Argo CD and every non-public load balancer are internal or limited to admin CIDRs",
         operator_uis_restricted),
    Rule("private-cluster-api", "security", "the EKS API is not open to the whole internet", private_cluster_api),
    Rule("private-buckets", "security", "every bucket blocks public access; no public ACLs", private_buckets),
    Rule("least-privilege-iam", "security", "no wildcard actions, no admin policies, no basic GCP roles",
         least_privilege_iam),
    Rule("probes-and-limits", "reliability", "every container has requests, limits, readiness and liveness",
         probes_and_limits),
    Rule("no-latest-image-tag", "reliability", "every image is pinned to a tag other than latest (or a digest)",
         no_latest_tags),
    Rule("hpa-metrics-available", "reliability", "HPAs have a metrics server and CPU requests to scale on",
         hpa_metrics),
    Rule("hpa-owns-replicas", "reliability", "no replica count on a workload an HPA scales",
         hpa_owns_replicas),
    Rule("backups-enabled", "reliability", "RDS automated backups and DynamoDB point-in-time recovery",
         backups),
)


def evaluate(resources: Sequence[Resource], rules: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of every rule, in rule order."""
    return [v for rule in rules for v in rule.check(resources)]


UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # how the engine prints a value known only after up
_GONE = {"delete", "delete-replaced", "discard", "read-discard", "remove-pending-replace"}


def preview_resources(doc: Mapping[str, Any], stage: str = "") -> list[Resource]:
    """The resources a real preview would leave in the stack (``pulumi preview --json``'s steps)."""
    found: list[Resource] = []
    for step in doc.get("steps") or []:
        state = step.get("newState") if isinstance(step, Mapping) else None
        if not isinstance(state, Mapping) or step.get("op") in _GONE or not state.get("custom", True):
            continue
        urn = str(step.get("urn") or state.get("urn") or "")
        name = urn.rsplit("::", 1)[-1] if "::" in urn else urn
        found.append(Resource(stage, str(state.get("type", "")), name, dict(state.get("inputs") or {})))
    return found


def evaluate_preview(doc: Mapping[str, Any], stage: str = "", rules: Sequence[Rule] = RULES) -> list[Violation]:
    """``evaluate`` over a real preview's plan (one stage's ``pulumi preview --json`` document)."""
    return evaluate(preview_resources(doc, stage), rules)


# -- helpers -------------------------------------------------------------------------------------
def _port_text(rule_like: Mapping[str, Any]) -> str:
    ports = _ports(rule_like)
    return f"port {ports.start}" if len(ports) == 1 else f"ports {ports.start}-{ports.stop - 1}"


def _names(r: Resource) -> set[str]:
    """How other resources may refer to ``r``: its logical name, bucket name, mock id."""
    return {n for n in (r.name, f"{r.name}-id", str(r.get("bucket", "")), str(r.get("name", ""))) if n}


def _ref(value: Any) -> set[str]:
    return {str(value)} if value else set()


def _targets(resources: Sequence[Resource], type_: str, key: str) -> set[str]:
    return {n for r in _of(resources, type_) for n in _ref(r.get(key))}


def _statements(policy: Any) -> list[Mapping[str, Any]]:
    doc = policy
    if isinstance(policy, str):
        try:
            doc = json.loads(policy)
        except ValueError:
            return []
    if not isinstance(doc, Mapping):
        return []
    stmts = doc.get("Statement", [])
    return [s for s in (stmts if isinstance(stmts, list) else [stmts]) if isinstance(s, Mapping)]


def _listify(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
