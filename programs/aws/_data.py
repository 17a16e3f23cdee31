"""The data stores: RDS MySQL 8, DynamoDB tables, the SNS topic and SQS subscribers, all encrypted
with the stack's KMS key and reachable only from inside the VPC (RDS) or through IAM (the rest)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from blueprint.topology import Topology
from blueprint.wiring import mysql_user
from programs.config import ProgramConfig

from ._network import Network

MYSQL_ENGINE_VERSION = "8.4"
MYSQL_PARAMETER_FAMILY = "mysql8.4"
MASTER_USERNAME = "ecomctl_admin"
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


def protected(cfg: ProgramConfig, opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` with Pulumi's ``protect`` for a data store when the stack protects them."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=cfg.protect))


@dataclass(frozen=True)
class Data:
    rds: aws.rds.Instance
    master_password: random.RandomPassword
    database_passwords: dict[str, pulumi.Output[str]]  # database -> its service user's password
    tables: dict[str, aws.dynamodb.Table]
    topics: dict[str, aws.sns.Topic]
    queues: dict[str, aws.sqs.Queue]


def password(name: str, opts: pulumi.ResourceOptions) -> random.RandomPassword:
    # no characters that need quoting in a MySQL string, a URL or a shell
    return random.RandomPassword(name, length=32, special=True, override_special="-_.~", opts=opts)


def build_rds(cfg: ProgramConfig, net: Network, kms_key: aws.kms.Key, client_sg: pulumi.Input[str],
              opts: pulumi.ResourceOptions) -> tuple[aws.rds.Instance, random.RandomPassword]:
    name = cfg.prefix
    sg = aws.ec2.SecurityGroup(f"{name}-rds", vpc_id=net.vpc.id, description="RDS MySQL: EKS nodes only",
                               egress=[], opts=opts)
    aws.vpc.SecurityGroupIngressRule(f"{name}-rds-from-eks", security_group_id=sg.id, ip_protocol="tcp",
                                     from_port=3306, to_port=3306, referenced_security_group_id=client_sg,
                                     description="MySQL from the EKS cluster security group", opts=opts)
    subnets = aws.rds.SubnetGroup(f"{name}-rds", subnet_ids=[s.id for s in net.private_subnets], opts=opts)
    # TLS is required at the server: the services (services/kit/mysql.py, MYSQL_TLS=verify) and the
    # bootstrap Job (--ssl-mode=VERIFY_CA) verify the RDS certificate against the RDS CA bundle.
    params = aws.rds.ParameterGroup(f"{name}-mysql", family=MYSQL_PARAMETER_FAMILY, parameters=[
        {"name": "character_set_server", "value": "utf8mb4"},
        {"name": "require_secure_transport", "value": "1"}], opts=opts)
    master = password(f"{name}-rds-master", opts)
    snapshot_suffix = random.RandomString(f"{name}-rds-final-snapshot", length=8, special=False, upper=False,
                                          opts=opts)
    rds = aws.rds.Instance(
        f"{name}-mysql",
        identifier=f"{name}-mysql",
        engine="mysql",
        engine_version=MYSQL_ENGINE_VERSION,
        instance_class=cfg.rds_instance_class,
        allocated_storage=cfg.rds_allocated_storage_gb,
        max_allocated_storage=cfg.rds_allocated_storage_gb * 5,
        storage_type="gp3",
        storage_encrypted=True,
        kms_key_id=kms_key.arn,
        username=MASTER_USERNAME,
        password=master.result,
        db_subnet_group_name=subnets.name,
        vpc_security_group_ids=[sg.id],
        parameter_group_name=params.name,
        publicly_accessible=False,
        multi_az=cfg.production,
        deletion_protection=cfg.production,
        backup_retention_period=max(1, cfg.rds_backup_retention_days),
        backup_window="03:00-04:00",
        copy_tags_to_snapshot=True,
        # every deletion leaves a named snapshot (a new suffix per instance: names never collide)
        skip_final_snapshot=False,
        final_snapshot_identifier=pulumi.Output.concat(name, "-mysql-final-", snapshot_suffix.result),
        delete_automated_backups=not cfg.production,
        auto_minor_version_upgrade=True,
        iam_database_authentication_enabled=True,
        apply_immediately=not cfg.production,
        opts=protected(cfg, opts),
    )
    return rds, master


def build_tables(topology: Topology, cfg: ProgramConfig, kms_key: aws.kms.Key,
                 opts: pulumi.ResourceOptions) -> dict[str, aws.dynamodb.Table]:
    tables: dict[str, aws.dynamodb.Table] = {}
    for t in topology.tables:
        tables[t.name] = aws.dynamodb.Table(
            f"{cfg.prefix}-{t.name}",
            name=cfg.physical_name(t.name),
            billing_mode="PAY_PER_REQUEST",
            hash_key=t.hash_key,
            range_key=t.range_key,
            attributes=[{"name": a, "type": "S"} for a in t.key_attributes],
            global_secondary_indexes=[
                {"name": ix.name, "hash_key": ix.hash_key, "range_key": ix.range_key, "projection_type": "ALL"}
                for ix in t.indexes
            ] or None,
            ttl={"attribute_name": t.ttl_attribute, "enabled": True} if t.ttl_attribute else None,
            point_in_time_recovery={"enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": kms_key.arn},
            deletion_protection_enabled=cfg.production,
            opts=protected(cfg, opts),
        )
    return tables


def build_messaging(topology: Topology, cfg: ProgramConfig, kms_key: aws.kms.Key,
                    opts: pulumi.ResourceOptions) -> tuple[dict[str, aws.sns.Topic], dict[str, aws.sqs.Queue]]:
    """SNS topics and the SQS queues that subscribe to them. A queue that only stands in locally
    for a bucket's Lambda trigger (``Bucket.notify_queue``) does not exist in the cloud."""
    topics = {n.name: aws.sns.Topic(f"{cfg.prefix}-{n.name}", name=cfg.physical_name(n.name),
                                    kms_master_key_id=kms_key.id, opts=opts)
              for n in topology.notification_topics}
    local_only = {b.notify_queue for b in topology.buckets if b.notify_queue}
    queues: dict[str, aws.sqs.Queue] = {}
    for q in topology.queues:
        if q.name in local_only:
            continue
        queue = aws.sqs.Queue(f"{cfg.prefix}-{q.name}", name=cfg.physical_name(q.name),
                              visibility_timeout_seconds=q.visibility_timeout_s,
                              message_retention_seconds=q.retention_s,
                              kms_master_key_id=kms_key.id, opts=opts)
        queues[q.name] = queue
        if q.subscribes_to:
            topic = topics[q.subscribes_to]
            policy = pulumi.Output.all(queue.arn, topic.arn).apply(lambda a: json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage", "Resource": a[0],
                    "Condition": {"ArnEquals": {"aws:SourceArn": a[1]}}}]}))
            aws.sqs.QueuePolicy(f"{cfg.prefix}-{q.name}", queue_url=queue.url, policy=policy, opts=opts)
            aws.sns.TopicSubscription(f"{cfg.prefix}-{q.name}", topic=topic.arn, protocol="sqs",
                                      endpoint=queue.arn, raw_message_delivery=True, opts=opts)
    return topics, queues


def build_data(topology: Topology, cfg: ProgramConfig, net: Network, kms_key: aws.kms.Key,
               client_sg: pulumi.Input[str], opts: pulumi.ResourceOptions) -> Data:
    rds, master = build_rds(cfg, net, kms_key, client_sg, opts)
    db_passwords = {d.name: password(f"{cfg.prefix}-mysql-{mysql_user(d.name)}", opts).result
                    for d in topology.databases}
    topics, queues = build_messaging(topology, cfg, kms_key, opts)
    return Data(rds, master, db_passwords, build_tables(topology, cfg, kms_key, opts), topics, queues)
