"""Least privilege: one IAM policy per service (and the Lambda), derived from what the topology
says it uses: its tables (and their indexes), its buckets' prefixes, its SNS topics and queues."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from blueprint.topology import Service, Topology, Worker

TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                 "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem",
                 "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"]
OBJECT_ACTIONS = ["s3:GetObject", "s3:PutObject"]
QUEUE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                 "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"]


def policy_document(part: Service | Worker, topology: Topology, arns: Mapping[str, str]) -> dict[str, Any] | None:
    """The statements ``part`` needs; ``arns`` maps ``table:<n>``, ``bucket:<n>``, ``sns:<n>``,
    ``queue:<n>`` and ``kms`` to resolved ARNs. ``None`` when it uses no AWS API."""
    statements: list[dict[str, Any]] = []
    tables = [arns[f"table:{t}"] for t in part.tables]
    if tables:
        statements.append({"Sid": "Tables", "Effect": "Allow", "Action": TABLE_ACTIONS,
                           "Resource": [*tables, *(f"{t}/index/*" for t in tables)]})
    for name in part.buckets:
        bucket, arn = topology.bucket(name), arns[f"bucket:{name}"]
        prefixes = list(bucket.prefixes) or [""]
        statements.append({"Sid": f"Objects{len(statements)}", "Effect": "Allow", "Action": OBJECT_ACTIONS,
                           "Resource": [f"{arn}/{p}*" for p in prefixes]})
        statements.append({"Sid": f"List{len(statements)}", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [arn],
                           "Condition": {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}})
    topics = [arns[f"sns:{n}"] for n in getattr(part, "notification_topics", ())]
    if topics:
        statements.append({"Sid": "Publish", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": topics})
    queues = [arns[f"queue:{q}"] for q in part.queues if f"queue:{q}" in arns]
    if queues:
        statements.append({"Sid": "Queues", "Effect": "Allow", "Action": QUEUE_ACTIONS, "Resource": queues})
    if not statements:
        return None
    statements.append({"Sid": "Kms", "Effect": "Allow", "Action": KMS_ACTIONS, "Resource": [arns["kms"]]})
    return {"Version": "2012-10-17", "Statement": statements}


def attach_policy(name: str, role: aws.iam.Role, part: Service | Worker, topology: Topology,
                  arns: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions) -> aws.iam.RolePolicy | None:
    """An inline policy on ``role`` with exactly ``policy_document``'s statements (none if it needs none)."""
    if policy_document(part, topology, {k: "arn" for k in arns}) is None:
        return None
    keys = sorted(arns)
    doc = pulumi.Output.all(*(arns[k] for k in keys)).apply(
        lambda values: json.dumps(policy_document(part, topology, dict(zip(keys, values, strict=True)))))
    return aws.iam.RolePolicy(name, role=role.id, policy=doc, opts=opts)
