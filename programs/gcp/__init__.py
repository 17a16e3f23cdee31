"""The GCP program: a private network with Cloud NAT (static egress address), the HA VPN to AWS
and the MSK rule that admits the Dataproc subnet only, Dataproc with Flink, the job on GCS.

Runs after the AWS stage: ``upstream`` holds its resolved outputs (``aws.<output>``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp

from programs.config import ProgramConfig

from ._dataproc import Dataproc, build_dataproc
from ._link import DATAPROC_KAFKA_USER, Link, build_link
from ._network import GcpNetwork, build_gcp_network

REQUIRED_UPSTREAM = ("aws.vpn_gateway_id", "aws.msk_security_group_id", "aws.msk_cluster_arn",
                     "aws.kms_key_arn", "aws.msk_bootstrap_brokers_sasl_scram")


@dataclass(frozen=True)
class GcpOutputs:
    network: GcpNetwork
    link: Link
    dataproc: Dataproc
    kafka_secret: gcp.secretmanager.Secret


OFFLINE_PROJECT = "offline-preview"


def project(cfg: ProgramConfig) -> str:
    """``gcp_project``: required, never a default. Pulumi's mock runtime (``ecomctl preview
    --offline``, the program tests) gets a placeholder, since no GCP call is made there."""
    if cfg.gcp_project:
        return cfg.gcp_project
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    if isinstance(get_monitor(), MockMonitor):
        return OFFLINE_PROJECT
    raise ValueError("gcp_project is not set: ecomctl config set gcp_project <project id> --stack <stack>")


def build_gcp(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> GcpOutputs:
    cfg = dataclasses.replace(cfg, gcp_project=project(cfg))
    missing = [k for k in REQUIRED_UPSTREAM if not upstream.get(k)]
    if missing:
        raise ValueError(f"the gcp stage needs the aws stage's outputs first: missing {', '.join(missing)}")
    plain = {k: upstream[k] for k in REQUIRED_UPSTREAM}  # plain strings, or Outputs if secret upstream
    gcp_opts = pulumi.ResourceOptions(provider=gcp.Provider(
        f"{cfg.prefix}-gcp", project=cfg.gcp_project, region=cfg.gcp_region,
        default_labels={"ecomctl-stack": cfg.stack}))
    aws_opts = pulumi.ResourceOptions(provider=aws.Provider(f"{cfg.prefix}-aws-link", region=cfg.aws_region))
    net = build_gcp_network(cfg, gcp_opts)
    link = build_link(cfg, net, plain, gcp_opts, aws_opts)
    secret = gcp.secretmanager.Secret(f"{cfg.prefix}-kafka-scram", secret_id=f"{cfg.prefix}-kafka-scram",
                                      replication={"auto": {}}, opts=gcp_opts)
    version = gcp.secretmanager.SecretVersion(f"{cfg.prefix}-kafka-scram", secret=secret.id,
                                              secret_data=link.kafka_password.result, opts=gcp_opts)
    dataproc = build_dataproc(cfg, net, secret, version, gcp_opts)
    return GcpOutputs(net, link, dataproc, secret)


def gcp_program(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> None:
    """Stage ``gcp``: build and export (the Flink submission reads these outputs)."""
    out = build_gcp(cfg, upstream)
    exports: dict[str, Any] = {
        "network": out.network.network.name,
        "subnet_cidr": cfg.gcp_subnet_cidr,
        "nat_address": out.network.nat_address.address,
        "vpn_tunnels": [t.name for t in out.link.tunnels],
        "dataproc_cluster": out.dataproc.cluster.name,
        "dataproc_region": cfg.gcp_region,
        "dataproc_project": project(cfg),
        "dataproc_service_account": out.dataproc.service_account.email,
        "flink_bucket": out.dataproc.buckets["jobs"].name,
        "flink_job_py": out.dataproc.job_py,
        "flink_job_archive": out.dataproc.job_archive,
        "flink_connector_jar": out.dataproc.connector_jar,
        "flink_checkpoint_dir": out.dataproc.checkpoint_dir,
        "flink_version": cfg.dataproc_flink_version,
        "kafka_bootstrap": upstream["aws.msk_bootstrap_brokers_sasl_scram"],
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_username": DATAPROC_KAFKA_USER,
        "kafka_password": pulumi.Output.secret(out.link.kafka_password.result),
        "kafka_password_secret": out.kafka_secret.id,
    }
    for key, value in exports.items():
        pulumi.export(key, value)
