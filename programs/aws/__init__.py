"""The AWS program: VPC, EKS (+IRSA), RDS MySQL 8, DynamoDB, MSK, S3 + the Lambda file processor,
SNS/SQS, ECR + service images, one least-privilege IAM role per service.

``build_aws(topology, cfg)`` creates the resources and returns them; ``aws_program(cfg, upstream)``
is the stage function (``programs.platform.STAGES``) that also exports the outputs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from blueprint.topology import TOPOLOGY, Topology
from blueprint.wiring import worker_env
from programs.config import ProgramConfig
from programs.endpoints import cloud_endpoints

from ._controllers import build_controller_roles
from ._data import MASTER_USERNAME, RDS_CA_BUNDLE_URL, Data, build_data, password
from ._eks import Cluster, build_cluster, irsa_role
from ._files import Files, build_files
from ._iam import attach_policy
from ._images import Images, build_images
from ._msk import Kafka, build_kafka, build_topics
from ._network import Network, build_network

NAMESPACE = "ecomctl"


@dataclass(frozen=True)
class AwsOutputs:
    network: Network
    cluster: Cluster
    data: Data
    kafka: Kafka
    files: Files
    images: Images
    kms_key: aws.kms.Key
    service_roles: dict[str, aws.iam.Role]
    controller_roles: dict[str, aws.iam.Role]
    jwt_secret: random.RandomPassword
    admin_email: str
    admin_password: random.RandomPassword


def provider(cfg: ProgramConfig) -> aws.Provider:
    return aws.Provider(f"{cfg.prefix}-aws", region=cfg.aws_region, default_tags={"tags": {
        "ecomctl:stack": cfg.stack, "ecomctl:managed-by": "pulumi"}})


def kms_key(cfg: ProgramConfig, account_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> aws.kms.Key:
    """The stack's customer key: the account administers it, SNS may use it to deliver to SQS."""
    policy = pulumi.Output.from_input(account_id).apply(lambda acct: json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "SnsToSqs", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"},
            {"Sid": "S3Notifications", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]}))
    key = aws.kms.Key(f"{cfg.prefix}-key", description=f"{cfg.prefix}: data at rest", enable_key_rotation=True,
                      deletion_window_in_days=30 if cfg.production else 7, policy=policy, opts=opts)
    aws.kms.Alias(f"{cfg.prefix}-key", name=f"alias/{cfg.prefix}", target_key_id=key.key_id, opts=opts)
    return key


def build_aws(topology: Topology, cfg: ProgramConfig) -> AwsOutputs:
    opts = pulumi.ResourceOptions(provider=provider(cfg))
    account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=opts.provider)).account_id
    key = kms_key(cfg, account_id, opts)
    net = build_network(cfg, opts)
    cluster = build_cluster(cfg, net, key, opts)
    data = build_data(topology, cfg, net, key, cluster.node_security_group_id, opts)
    kafka = build_kafka(cfg, net, key, cluster.node_security_group_id, opts)
    build_topics(topology, cfg, kafka.cluster, opts)
    suffix = random.RandomString(f"{cfg.prefix}-bucket-suffix", length=8, special=False, upper=False,
                                 opts=opts).result
    physical: dict[str, Any] = {b.name: pulumi.Output.concat(cfg.physical_name(b.name), "-", suffix)
                                for b in topology.buckets}
    jwt = password(f"{cfg.prefix}-jwt-secret", opts)
    admin_pw = password(f"{cfg.prefix}-admin-password", opts)
    admin_email = f"admin@{cfg.storefront_domain or 'ecomctl.example.com'}"
    arns: dict[str, pulumi.Input[str]] = {"kms": key.arn}
    arns.update({f"table:{n}": t.arn for n, t in data.tables.items()})
    arns.update({f"bucket:{b.name}": physical[b.name].apply(lambda n: f"arn:aws:s3:::{n}")
                 for b in topology.buckets})
    arns.update({f"sns:{n}": t.arn for n, t in data.topics.items()})
    arns.update({f"queue:{n}": q.arn for n, q in data.queues.items()})

    roles: dict[str, aws.iam.Role] = {}
    for service in topology.services:
        role = irsa_role(f"{cfg.prefix}-svc-{service.name}", cluster.oidc_provider, NAMESPACE, service.name, opts)
        attach_policy(f"{cfg.prefix}-svc-{service.name}", role, service, topology, arns, opts)
        roles[service.name] = role

    worker = next(w for w in topology.workers if w.package == "services.file_processor")
    lambda_worker = dataclasses.replace(worker, queues=())  # S3 invokes the Lambda directly: no queue
    endpoints = cloud_endpoints(
        topology, cfg, namespace=NAMESPACE, mysql_host="", mysql_port=3306, database_passwords={},
        kafka_bootstrap="", kafka_username="", kafka_password="", queue_urls={}, sns_topic_arns={},
        physical_names=physical, jwt_secret="", admin_email="", admin_password="")
    lambda_role = aws.iam.Role(f"{cfg.prefix}-{worker.name}",
                               assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": [{
                                   "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]}), opts=opts)
    attach_policy(f"{cfg.prefix}-{worker.name}", lambda_role, lambda_worker, topology, arns, opts)
    files = build_files(topology, cfg, suffix, key, worker_env(lambda_worker, endpoints), lambda_worker,
                        lambda_role, account_id, opts)
    images = build_images(topology, cfg, key, opts)
    controllers = build_controller_roles(cfg, cluster, net.vpc.arn, account_id, opts)
    return AwsOutputs(net, cluster, data, kafka, files, images, key, roles, controllers, jwt, admin_email, admin_pw)


def export_outputs(cfg: ProgramConfig, out: AwsOutputs) -> None:
    """Every output later stages and the operator need (secrets stay secret)."""
    rds, msk = out.data.rds, out.kafka.cluster
    exports: dict[str, Any] = {
        "region": cfg.aws_region,
        "vpc_id": out.network.vpc.id,
        "vpc_cidr": out.network.vpc.cidr_block,
        "private_subnet_ids": [s.id for s in out.network.private_subnets],
        "private_route_table_ids": [r.id for r in out.network.private_route_tables],
        "vpn_gateway_id": out.network.vpn_gateway.id,
        "cluster_name": out.cluster.cluster.name,
        "cluster_endpoint": out.cluster.cluster.endpoint,
        "kubeconfig": out.cluster.kubeconfig,
        "oidc_provider_arn": out.cluster.oidc_provider.arn,
        "node_security_group_id": out.cluster.node_security_group_id,
        "rds_endpoint": rds.address,
        "rds_port": rds.port,
        "rds_ca_bundle_url": RDS_CA_BUNDLE_URL,
        "rds_master_username": MASTER_USERNAME,
        "rds_master_password": pulumi.Output.secret(out.data.master_password.result),
        "mysql_passwords": pulumi.Output.secret(pulumi.Output.all(**out.data.database_passwords)),
        "msk_cluster_arn": msk.arn,
        "msk_bootstrap_brokers_sasl_scram": msk.bootstrap_brokers_sasl_scram,
        "msk_security_group_id": out.kafka.security_group.id,
        "kms_key_arn": out.kms_key.arn,
        "kafka_username": out.kafka.username,
        "kafka_password": pulumi.Output.secret(out.kafka.password.result),
        "table_names": {n: t.name for n, t in out.data.tables.items()},
        "bucket_names": {n: b.bucket for n, b in out.files.buckets.items()},
        "sns_topic_arns": {n: t.arn for n, t in out.data.topics.items()},
        "queue_urls": {n: q.url for n, q in out.data.queues.items()},
        "lambda_function_name": out.files.function.name,
        "lambda_source_hash": out.files.source_hash,
        "ecr_repositories": {n: r.repository_url for n, r in out.images.repositories.items()},
        "images": out.images.refs,
        "image_tag": out.images.tag,
        "service_role_arns": {n: r.arn for n, r in out.service_roles.items()},
        "controller_role_arns": {n: r.arn for n, r in out.controller_roles.items()},
        "jwt_secret": pulumi.Output.secret(out.jwt_secret.result),
        "admin_email": out.admin_email,
        "admin_password": pulumi.Output.secret(out.admin_password.result),
    }
    for key, value in exports.items():
        pulumi.export(key, value)


def aws_program(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> None:
    """Stage ``aws`` (the first stage: ``upstream`` is empty)."""
    del upstream
    export_outputs(cfg, build_aws(TOPOLOGY, cfg))
