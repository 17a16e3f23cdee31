"""Every IAM policy the programs render, evaluated by moto's IAM policy engine for the calls each
workload makes: a missing permission fails here, not at ``CreateFunction`` or at 3 a.m.

The calls of a service or of the Lambda are read from its source (DynamoDB operations through
``services.kit.dynamo``, boto3 client methods), so new code that calls AWS is checked without
editing this file. The Lambda runtime's own calls follow from the function's settings (its log
group; X-Ray when tracing is Active); the controllers' calls are the ones they make to run the
storefront's ALB and to resize the node group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from blueprint.topology import TOPOLOGY, Service, Worker
from ecomctl.cloud.mockruntime import ACCOUNT_ID, mock_id, mock_state
from programs.config import ProgramConfig
from tests.programs.harness import Run

REPO = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
DYNAMO_CALL = re.compile(r"""\.call\(\s*["']([A-Za-z]+)["']""")
# the actions of a TransactWriteItems/TransactGetItems request, as the code writes them
TRANSACT_ITEM = re.compile(r"""\{\s*["'](Put|Update|Delete|ConditionCheck|Get)["']\s*:""")
# IAM has no action for a transaction: each of its items is authorized as its own operation
# (docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html)
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
BOTO_CALL = re.compile(r"\.(publish_batch|publish|receive_message|delete_message|change_message_visibility|"
                       r"get_object|put_object|generate_presigned_post|generate_presigned_url)\b")
# boto3 method -> (IAM action, the kind of resource it acts on)
BOTO_ACTIONS = {
    "publish": ("sns:Publish", "topic"),
    "publish_batch": ("sns:Publish", "topic"),  # PublishBatch is authorized as sns:Publish
    "receive_message": ("sqs:ReceiveMessage", "queue"),
    "delete_message": ("sqs:DeleteMessage", "queue"),
    "change_message_visibility": ("sqs:ChangeMessageVisibility", "queue"),
    "get_object": ("s3:GetObject", "object"),
    "put_object": ("s3:PutObject", "object"),
    "generate_presigned_post": ("s3:PutObject", "object"),  # the browser's upload is signed as the service
    "generate_presigned_url": ("s3:GetObject", "object"),
}


class Policies:
    """The inline policies of each role of a run, evaluated together as IAM does for one principal."""

    def __init__(self, run: Run) -> None:
        self.by_role: dict[str, list[IAMPolicy]] = {}
        for rec in run.of_type("aws:iam/rolePolicy:RolePolicy"):
            self.by_role.setdefault(str(rec.inputs["role"]), []).append(IAMPolicy(rec.inputs["policy"]))
        self.run = run

    def allows(self, role_name: str, action: str, resource: str, conditions: dict[str, str] | None = None) -> bool:
        policies = self.by_role.get(self._id(role_name), [])
        results = [p.is_action_permitted(action, resource, incoming_condition_values=conditions) for p in policies]
        return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results

    def _id(self, role_name: str) -> str:
        assert any(r.name == role_name for r in self.run.of_type("aws:iam/role:Role")), role_name
        return mock_id(role_name)


def arn_of(run: Run, type_: str, name: str) -> str:
    found = [r for r in run.of_type(type_) if r.name == name]
    assert len(found) == 1, f"expected one {type_} named {name}"
    rec = found[0]
    return str(mock_state(rec.type, rec.name, rec.inputs)["arn"])


def source_calls(package: str) -> tuple[set[str], set[str]]:
    """(DynamoDB operations, boto3 methods) called in ``package``'s own modules."""
    root = REPO.joinpath(*package.split("."))
    text = "\n".join(p.read_text() for p in root.rglob("*.py"))
    operations = set(DYNAMO_CALL.findall(text))
    if operations & {"TransactWriteItems", "TransactGetItems"}:
        operations -= {"TransactWriteItems", "TransactGetItems"}
        operations |= {TRANSACT_ACTIONS[item] for item in TRANSACT_ITEM.findall(text)}
    return operations, set(BOTO_CALL.findall(text))


def required(part: Service | Worker, run: Run, cfg: ProgramConfig) -> Iterator[tuple[str, str]]:
    """(action, resource ARN) for every AWS call ``part``'s code makes."""
    dynamo_ops, boto_methods = source_calls(part.package)
    for table_name in part.tables:
        table = TOPOLOGY.table(table_name)
        arn = arn_of(run, "aws:dynamodb/table:Table", f"{cfg.prefix}-{table_name}")
        for op in dynamo_ops:
            yield f"dynamodb:{op}", arn
            if op == "Query":
                yield from ((f"dynamodb:{op}", f"{arn}/index/{ix.name}") for ix in table.indexes)
    kms = arn_of(run, "aws:kms/key:Key", f"{cfg.prefix}-key")
    for method in boto_methods:
        action, kind = BOTO_ACTIONS[method]
        if kind == "object":
            for bucket_name in part.buckets:
                bucket = run.one("aws:s3/bucket:Bucket", f"{cfg.prefix}-{bucket_name}").inputs["bucket"]
                for prefix in TOPOLOGY.bucket(bucket_name).prefixes or ("",):
                    yield action, f"arn:aws:s3:::{bucket}/{prefix}probe.bin"
            yield ("kms:GenerateDataKey" if action == "s3:PutObject" else "kms:Decrypt"), kms
        elif kind == "topic":
            for topic in getattr(part, "notification_topics", ()):
                yield action, arn_of(run, "aws:sns/topic:Topic", f"{cfg.prefix}-{topic}")
            yield "kms:GenerateDataKey", kms
        else:
            for queue in part.queues:
                if any(r.name == f"{cfg.prefix}-{queue}" and r.type == "aws:sqs/queue:Queue" for r in run.resources):
                    yield action, arn_of(run, "aws:sqs/queue:Queue", f"{cfg.prefix}-{queue}")
                    yield "kms:Decrypt", kms


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_every_service_may_make_the_calls_its_code_makes(dev: dict[str, Run], dev_cfg: ProgramConfig,
                                                         service: Service) -> None:
    aws = dev["aws"]
    calls = list(required(service, aws, dev_cfg))
    if not calls:
        pytest.skip(f"{service.name} calls no AWS API")
    policies = Policies(aws)
    refused = [c for c in calls if not policies.allows(f"{dev_cfg.prefix}-svc-{service.name}", *c)]
    assert not refused, f"{service.name}'s role refuses {refused}"


def test_the_lambda_may_work_log_and_trace(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    worker = next(w for w in TOPOLOGY.workers if w.package == "services.file_processor")
    function = aws.one("aws:lambda/function:Function", f"{dev_cfg.prefix}-{worker.name}")
    role = f"{dev_cfg.prefix}-{worker.name}"
    calls = [c for c in required(worker, aws, dev_cfg) if not c[0].startswith("sqs:")]  # S3 invokes it directly
    log_group = function.inputs.get("loggingConfig", {}).get("logGroup") or f"/aws/lambda/{function.inputs['name']}"
    group = next(r for r in aws.of_type("aws:cloudwatch/logGroup:LogGroup") if r.inputs["name"] == log_group)
    group_arn = str(mock_state(group.type, group.name, group.inputs)["arn"])
    calls += [("logs:CreateLogStream", f"{group_arn}:log-stream:2026/01/01/[$LATEST]abc"),
              ("logs:PutLogEvents", f"{group_arn}:log-stream:2026/01/01/[$LATEST]abc")]
    if function.inputs.get("tracingConfig", {}).get("mode") == "Active":
        calls += [("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")]
    policies = Policies(aws)
    refused = [c for c in calls if not policies.allows(role, *c)]
    assert not refused, f"the Lambda's role refuses {refused}"
    assert group.inputs["retentionInDays"] == dev_cfg.log_retention_days


def test_the_load_balancer_controller_may_run_the_storefront_alb(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    elb = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT_ID}"
    alb, listener = "app/k8s-ecomctl-gateway/50dc6c495c0c9188", "f2f7dc8efc522ab2"
    sg = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/sg-0abc"
    vpc = arn_of(aws, "aws:ec2/vpc:Vpc", f"{dev_cfg.prefix}-vpc")
    calls = [
        ("ec2:DescribeSubnets", "*"), ("ec2:DescribeSecurityGroups", "*"), ("ec2:DescribeVpcs", "*"),
        ("acm:DescribeCertificate", f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/1234"),
        ("ec2:CreateSecurityGroup", sg), ("ec2:CreateSecurityGroup", vpc), ("ec2:CreateTags", sg),
        ("ec2:AuthorizeSecurityGroupIngress", sg), ("ec2:DeleteSecurityGroup", sg),
        ("elasticloadbalancing:CreateLoadBalancer", f"{elb}:loadbalancer/{alb}"),
        ("elasticloadbalancing:CreateTargetGroup", f"{elb}:targetgroup/k8s-ecomctl-gateway/73e2d6bc24d8a067"),
        ("elasticloadbalancing:CreateListener", f"{elb}:listener/{alb}/{listener}"),
        ("elasticloadbalancing:CreateRule", f"{elb}:listener-rule/{alb}/{listener}/9683b2d02a6cabee"),
        ("elasticloadbalancing:RegisterTargets", f"{elb}:targetgroup/k8s-ecomctl-gateway/73e2d6bc24d8a067"),
        ("elasticloadbalancing:AddTags", f"{elb}:loadbalancer/{alb}"),
        ("elasticloadbalancing:DescribeTargetHealth", "*"),
    ]
    policies = Policies(aws)
    role = f"{dev_cfg.prefix}-aws-load-balancer-controller"
    refused = [c for c in calls if not policies.allows(role, *c)]
    assert not refused, f"the load balancer controller's role refuses {refused}"
    linked = (f"arn:aws:iam::{ACCOUNT_ID}:role/aws-service-role/elasticloadbalancing.amazonaws.com/"
              "AWSServiceRoleForElasticLoadBalancing")
    assert policies.allows(role, "iam:CreateServiceLinkedRole", linked,
                           {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"})
    assert not policies.allows(role, "iam:CreateServiceLinkedRole", linked, {"iam:AWSServiceName": "rds.amazonaws.com"})
    assert not policies.allows(role, "ec2:TerminateInstances", "*")


def test_the_cluster_autoscaler_may_resize_only_this_clusters_node_group(dev: dict[str, Run],
                                                                        dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    policies = Policies(aws)
    role = f"{dev_cfg.prefix}-cluster-autoscaler"
    cluster = dev_cfg.prefix
    asg = (f"arn:aws:autoscaling:{REGION}:{ACCOUNT_ID}:autoScalingGroup:6d2a-11:"
           f"autoScalingGroupName/eks-{cluster}-nodes-20c5")
    owned = {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}
    for action in ("autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
                   "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions"):
        assert policies.allows(role, action, "*"), action
    assert policies.allows(role, "eks:DescribeNodegroup",
                           f"arn:aws:eks:{REGION}:{ACCOUNT_ID}:nodegroup/{cluster}/nodes/20c5")
    for action in ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"):
        assert policies.allows(role, action, asg, owned), action
        # another cluster's group: this cluster's tag is not "owned" there
        assert not policies.allows(role, action, asg, {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": ""})


def test_no_policy_grants_a_service_anything_of_another_service(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    """The other direction: each service's role refuses the tables it does not own."""
    aws, policies = dev["aws"], Policies(dev["aws"])
    for service in TOPOLOGY.services:
        if not service.tables:
            continue
        for table in TOPOLOGY.tables:
            arn = arn_of(aws, "aws:dynamodb/table:Table", f"{dev_cfg.prefix}-{table.name}")
            allowed = policies.allows(f"{dev_cfg.prefix}-svc-{service.name}", "dynamodb:GetItem", arn)
            assert allowed == (table.name in service.tables), (service.name, table.name)


def test_policies_are_valid_json_documents(dev: dict[str, Run]) -> None:
    for rec in dev["aws"].of_type("aws:iam/rolePolicy:RolePolicy"):
        doc = json.loads(rec.inputs["policy"])
        assert doc["Version"] == "2012-10-17" and doc["Statement"], rec.name
