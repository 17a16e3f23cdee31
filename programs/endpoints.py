"""The cloud stack's ``blueprint.wiring.Endpoints``: what the services (in EKS) and the Lambda read.

Values may be plain strings (the Kubernetes stage gets resolved upstream outputs) or Pulumi
Outputs (the AWS stage wires the Lambda from resources it is creating).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from blueprint.topology import Topology
from blueprint.wiring import Endpoints, KafkaEndpoint, MysqlEndpoint
from programs.config import ProgramConfig

KAFKA_SASL_MECHANISM = "SCRAM-SHA-512"


def service_url(name: str, port: int, namespace: str) -> str:
    return f"http://{name}.{namespace}.svc.cluster.local:{port}"


def cloud_endpoints(
    topology: Topology,
    cfg: ProgramConfig,
    *,
    namespace: str,
    mysql_host: Any,
    mysql_port: Any,
    database_passwords: Mapping[str, Any],
    kafka_bootstrap: Any,
    kafka_username: Any,
    kafka_password: Any,
    queue_urls: Mapping[str, Any],
    sns_topic_arns: Mapping[str, Any],
    physical_names: Mapping[str, Any],
    jwt_secret: Any,
    admin_email: Any,
    admin_password: Any,
) -> Endpoints:
    return Endpoints(
        mysql=MysqlEndpoint(host=mysql_host, port=mysql_port, passwords=dict(database_passwords)),
        kafka=KafkaEndpoint(bootstrap_servers=kafka_bootstrap, security_protocol="SASL_SSL",
                            sasl_mechanism=KAFKA_SASL_MECHANISM, sasl_username=kafka_username,
                            sasl_password=kafka_password),
        aws_region=cfg.aws_region,
        service_urls={s.name: service_url(s.name, s.port, namespace) for s in topology.services},
        bind_host="0.0.0.0",
        service_ports={s.name: s.port for s in topology.services},
        jwt_secret=jwt_secret,
        admin_email=admin_email,
        admin_password=admin_password,
        queue_urls=dict(queue_urls),
        sns_topic_arns=dict(sns_topic_arns),
        physical_name=lambda name: physical_names.get(name, cfg.physical_name(name)),
        cors_origins=(cfg.cors_origin,) if cfg.cors_origin else (),
    )
