"""MSK: private brokers across the AZs, TLS only (client and in-cluster), SASL/SCRAM clients only,
encrypted at rest with the stack's KMS key. Only the EKS nodes and (added by the GCP stage) the
Dataproc subnet behind the HA VPN may reach the SASL/SCRAM port."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from blueprint.topology import Topology
from programs.config import ProgramConfig

from ._data import password, protected
from ._network import Network

SCRAM_PORT = 9096
OPEN_MONITORING_PORTS = (11001, 11002)  # JMX exporter, node exporter
PLATFORM_KAFKA_USER = "platform"


def replication_factor(cfg: ProgramConfig) -> int:
    return min(3, cfg.msk_broker_count)


def min_insync_replicas(cfg: ProgramConfig) -> int:
    """One replica fewer than the factor: a broker can be down (patching) without stopping producers."""
    return max(1, replication_factor(cfg) - 1)


@dataclass(frozen=True)
class Kafka:
    cluster: aws.msk.Cluster
    security_group: aws.ec2.SecurityGroup
    username: str
    password: random.RandomPassword


def scram_secret(name: str, secret_name: str, username: str, pw: pulumi.Input[str], cluster_arn: pulumi.Input[str],
                 kms_key_arn: pulumi.Input[str], opts: pulumi.ResourceOptions) -> aws.secretsmanager.Secret:
    """A SCRAM login for MSK: a Secrets Manager secret named ``AmazonMSK_*`` under a customer key,
    associated with the cluster on its own (several stages each add their own user)."""
    secret = aws.secretsmanager.Secret(name, name=f"AmazonMSK_{secret_name}", kms_key_id=kms_key_arn,
                                       recovery_window_in_days=0, opts=opts)
    version = aws.secretsmanager.SecretVersion(
        name, secret_id=secret.id,
        # ``pw`` is a secret (RandomPassword.result), so the JSON derived from it stays secret
        secret_string=pulumi.Output.from_input(pw).apply(
            lambda p: json.dumps({"username": username, "password": p})),
        opts=opts)
    aws.msk.SingleScramSecretAssociation(
        name, cluster_arn=cluster_arn, secret_arn=secret.arn,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[version])))
    return secret


def build_kafka(cfg: ProgramConfig, net: Network, kms_key: aws.kms.Key, client_sg: pulumi.Input[str],
                opts: pulumi.ResourceOptions) -> Kafka:
    name = cfg.prefix
    if cfg.msk_broker_count % len(cfg.zones):
        raise ValueError("msk_broker_count must be a multiple of the number of availability zones")
    sg = aws.ec2.SecurityGroup(f"{name}-msk", vpc_id=net.vpc.id,
                               description="MSK: SASL/SCRAM over TLS from EKS and the Dataproc subnet only",
                               egress=[], opts=opts)
    aws.vpc.SecurityGroupIngressRule(f"{name}-msk-from-eks", security_group_id=sg.id, ip_protocol="tcp",
                                     from_port=SCRAM_PORT, to_port=SCRAM_PORT,
                                     referenced_security_group_id=client_sg,
                                     description="Kafka SASL_SSL from the EKS cluster security group", opts=opts)
    aws.vpc.SecurityGroupIngressRule(f"{name}-msk-monitoring", security_group_id=sg.id, ip_protocol="tcp",
                                     from_port=OPEN_MONITORING_PORTS[0], to_port=OPEN_MONITORING_PORTS[1],
                                     referenced_security_group_id=client_sg,
                                     description="Prometheus (in EKS) scrapes the brokers' exporters", opts=opts)
    config = aws.msk.Configuration(
        f"{name}-kafka", name=f"{name}-kafka", kafka_versions=[cfg.msk_kafka_version],
        server_properties="\n".join([
            "auto.create.topics.enable=false",
            f"default.replication.factor={replication_factor(cfg)}",
            f"min.insync.replicas={min_insync_replicas(cfg)}",
            "unclean.leader.election.enable=false",
        ]) + "\n",
        opts=opts)
    cluster = aws.msk.Cluster(
        f"{name}-kafka",
        cluster_name=f"{name}-kafka",
        kafka_version=cfg.msk_kafka_version,
        number_of_broker_nodes=cfg.msk_broker_count,
        broker_node_group_info={
            "instance_type": cfg.msk_instance_type,
            "client_subnets": [s.id for s in net.private_subnets],
            "security_groups": [sg.id],
            "storage_info": {"ebs_storage_info": {"volume_size": cfg.msk_volume_gb}},
            "connectivity_info": {"public_access": {"type": "DISABLED"}},
        },
        client_authentication={"sasl": {"scram": True, "iam": False}, "unauthenticated": False},
        encryption_info={
            "encryption_at_rest_kms_key_arn": kms_key.arn,
            "encryption_in_transit": {"client_broker": "TLS", "in_cluster": True},
        },
        configuration_info={"arn": config.arn, "revision": config.latest_revision},
        open_monitoring={"prometheus": {"jmx_exporter": {"enabled_in_broker": True},
                                        "node_exporter": {"enabled_in_broker": True}}},
        opts=protected(cfg, opts),
    )
    pw = password(f"{name}-kafka-{PLATFORM_KAFKA_USER}", opts)
    scram_secret(f"{name}-kafka-{PLATFORM_KAFKA_USER}", f"{name}-{PLATFORM_KAFKA_USER}", PLATFORM_KAFKA_USER,
                 pw.result, cluster.arn, kms_key.arn, opts)
    return Kafka(cluster, sg, PLATFORM_KAFKA_USER, pw)


def build_topics(topology: Topology, cfg: ProgramConfig, cluster: aws.msk.Cluster,
                 opts: pulumi.ResourceOptions) -> dict[str, aws.msk.Topic]:
    """The topology's topics (automatic topic creation is off on the brokers)."""
    return {
        t.name: aws.msk.Topic(
            f"{cfg.prefix}-topic-{t.name}", name=t.name, cluster_arn=cluster.arn,
            partition_count=t.partitions, replication_factor=replication_factor(cfg),
            configs=json.dumps({"retention.ms": str(t.retention_hours * 3600 * 1000),
                                "cleanup.policy": "delete",
                                "min.insync.replicas": str(min_insync_replicas(cfg))}),
            opts=opts)
        for t in topology.topics
    }
