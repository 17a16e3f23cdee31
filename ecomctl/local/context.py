"""Everything a component needs to know about one local stack, computed once per command."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from blueprint.topology import TOPOLOGY, Topology
from blueprint.wiring import Endpoints, KafkaEndpoint, MysqlEndpoint
from ecomctl.local.layout import Layout
from ecomctl.secrets import StackSecrets
from ecomctl.settings import LOCAL_STACK, Settings

HOST = "127.0.0.1"
AWS_REGION = "us-east-1"
AWS_ACCOUNT = "123456789012"  # moto's default account
NAME_PREFIX = f"ecomctl-{LOCAL_STACK}-"


def physical_name(name: str) -> str:
    """Local AWS resource names: ``products`` -> ``ecomctl-local-products``."""
    return NAME_PREFIX + name


@dataclass(frozen=True)
class LocalContext:
    settings: Settings
    secrets: StackSecrets
    topology: Topology = TOPOLOGY

    @cached_property
    def layout(self) -> Layout:
        return Layout(self.settings.stack_dir(LOCAL_STACK))

    @property
    def python(self) -> str:
        """The interpreter of the main virtualenv (services run in it)."""
        return sys.executable

    @property
    def repo_root(self) -> Path:
        return self.settings.repo_root

    def port(self, name: str) -> int:
        return self.settings.ports[name]

    def url(self, name: str) -> str:
        return f"http://{HOST}:{self.port(name)}"

    @property
    def aws_url(self) -> str:
        return self.url("awsapi")

    @property
    def dynamodb_url(self) -> str:
        return self.url("dynamodb")

    @property
    def kafka_bootstrap(self) -> str:
        return f"{HOST}:{self.port('kafka')}"

    def queue_url(self, queue: str) -> str:
        return f"{self.aws_url}/{AWS_ACCOUNT}/{physical_name(queue)}"

    def sns_topic_arn(self, topic: str) -> str:
        return f"arn:aws:sns:{AWS_REGION}:{AWS_ACCOUNT}:{physical_name(topic)}"

    @property
    def aws_env(self) -> dict[str, str]:
        """What a client of the local AWS endpoints needs (tests, provisioning)."""
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
            "AWS_REGION": AWS_REGION,
            "AWS_DEFAULT_REGION": AWS_REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
        }

    @cached_property
    def endpoints(self) -> Endpoints:
        gateway = self.url(self.topology.gateway)
        return Endpoints(
            mysql=MysqlEndpoint(
                host=HOST, port=self.port("mariadb"), passwords=self.secrets.mysql_passwords
            ),
            kafka=KafkaEndpoint(bootstrap_servers=self.kafka_bootstrap),
            aws_region=AWS_REGION,
            service_urls={s.name: self.url(s.name) for s in self.topology.services},
            bind_host=HOST,
            service_ports={s.name: self.port(s.name) for s in self.topology.services},
            jwt_secret=self.secrets.jwt_secret,
            admin_email=self.secrets.admin_email,
            admin_password=self.secrets.admin_password,
            queue_urls={q.name: self.queue_url(q.name) for q in self.topology.queues},
            sns_topic_arns={t.name: self.sns_topic_arn(t.name) for t in self.topology.notification_topics},
            physical_name=physical_name,
            aws_endpoint_urls={"": self.aws_url, "dynamodb": self.dynamodb_url},
            aws_static_credentials=True,
            cors_origins=(gateway, gateway.replace(HOST, "localhost")),
        )
