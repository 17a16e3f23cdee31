"""Topology + resolved endpoints -> the environment of each service process.

The only place where the platform's description becomes environment variables. The local
runtime passes plain strings; the Kubernetes program passes Pulumi Outputs (hence the generic
value type). Services never import ``ecomctl``: each reads these keys in its own
``settings.py``, and ``tests/unit/test_wiring.py`` checks both sides agree.

Keys (``<NAME>`` is ``topology.env_suffix`` of a logical name):

==============================  =====================================================
``SERVICE_NAME``, ``HOST``,      identity and bind address/port
``PORT``, ``LOG_LEVEL``
``MYSQL_HOST`` ... ``_DATABASE``  only for a service that owns a database
``KAFKA_BOOTSTRAP_SERVERS``      only for producers/consumers, with ``KAFKA_SECURITY_PROTOCOL``
                                 (and ``KAFKA_SASL_*`` in the cloud)
``KAFKA_CONSUMER_GROUP``         consumers only
``TOPIC_<NAME>``                 each topic the service produces or consumes
``TABLE_<NAME>``                 each DynamoDB table it uses (physical name)
``BUCKET_<NAME>``                each bucket (physical name)
``QUEUE_<NAME>_URL``             each queue
``SNS_TOPIC_<NAME>_ARN``         each SNS topic
``AWS_REGION``; locally also the SDK-standard ``AWS_ENDPOINT_URL`` (S3, SQS, SNS) and
``AWS_ENDPOINT_URL_DYNAMODB``, and dummy ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``
``UPSTREAM_<NAME>_URL``          the gateway's upstream services
``JWT_SECRET``                   every service (the users service signs, all verify)
``ADMIN_EMAIL``, ``ADMIN_PASSWORD``  the users service seeds the admin account
``CORS_ORIGINS``                 the gateway (comma-separated)
==============================  =====================================================
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprint.topology import TOPOLOGY, Service, StreamJob, Topology, Worker, env_suffix

Value = Any  # a str locally, a pulumi.Output[str] in the cloud


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap_servers: Value
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: Value | None = None
    sasl_password: Value | None = None


@dataclass(frozen=True)
class MysqlEndpoint:
    host: Value
    port: Value
    passwords: Mapping[str, Value]  # database name -> that database's user password


@dataclass(frozen=True)
class Endpoints:
    """Where each shared part of the platform is, for one stack."""

    mysql: MysqlEndpoint
    kafka: KafkaEndpoint
    aws_region: str
    service_urls: Mapping[str, Value]  # service name -> base URL
    bind_host: str
    service_ports: Mapping[str, Value]  # service name -> port it binds
    jwt_secret: Value
    admin_email: Value
    admin_password: Value
    queue_urls: Mapping[str, Value]  # queue name -> URL
    sns_topic_arns: Mapping[str, Value]  # topic name -> ARN
    physical_name: Callable[[str], str] = field(default=lambda name: name)
    aws_endpoint_urls: Mapping[str, str] = field(default_factory=dict)  # local only: "" or an SDK service id
    aws_static_credentials: bool = False  # dummy keys for the local endpoint
    cors_origins: tuple[str, ...] = ()
    log_level: str = "INFO"


def mysql_user(database: str) -> str:
    """The MySQL user that owns ``database`` (one user per service schema)."""
    return f"{database}_svc"


def service_env(
    service: Service, endpoints: Endpoints, topology: Topology = TOPOLOGY
) -> dict[str, Value]:
    """Every environment variable ``service`` reads, resolved against ``endpoints``."""
    env: dict[str, Value] = {
        "SERVICE_NAME": service.name,
        "HOST": endpoints.bind_host,
        "PORT": str(endpoints.service_ports[service.name]),
        "LOG_LEVEL": endpoints.log_level,
        "JWT_SECRET": endpoints.jwt_secret,
    }
    if service.database is not None:
        env.update(
            MYSQL_HOST=endpoints.mysql.host,
            MYSQL_PORT=str(endpoints.mysql.port),
            MYSQL_USER=mysql_user(service.database),
            MYSQL_PASSWORD=endpoints.mysql.passwords[service.database],
            MYSQL_DATABASE=service.database,
        )
    if service.produces or service.consumes:
        env.update(_kafka_env(endpoints.kafka))
        for topic in (*service.produces, *service.consumes):
            env[f"TOPIC_{env_suffix(topic)}"] = topic
    if service.consumes:
        env["KAFKA_CONSUMER_GROUP"] = service.consumer_group
    env.update(_aws_env(service, endpoints))
    for upstream in service.upstreams:
        env[f"UPSTREAM_{env_suffix(upstream)}_URL"] = endpoints.service_urls[upstream]
    if service.database == "users":
        env.update(ADMIN_EMAIL=endpoints.admin_email, ADMIN_PASSWORD=endpoints.admin_password)
    if service.public:
        env["CORS_ORIGINS"] = ",".join(endpoints.cors_origins)
    return env


def worker_env(worker: Worker, endpoints: Endpoints) -> dict[str, Value]:
    """Every environment variable a background worker reads."""
    env: dict[str, Value] = {"SERVICE_NAME": worker.name, "LOG_LEVEL": endpoints.log_level}
    env.update(_aws_env(worker, endpoints))
    return env


def _kafka_env(kafka: KafkaEndpoint) -> dict[str, Value]:
    env: dict[str, Value] = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "KAFKA_SECURITY_PROTOCOL": kafka.security_protocol,
    }
    if kafka.sasl_mechanism is not None:
        env.update(
            KAFKA_SASL_MECHANISM=kafka.sasl_mechanism,
            KAFKA_SASL_USERNAME=kafka.sasl_username,
            KAFKA_SASL_PASSWORD=kafka.sasl_password,
        )
    return env


def _aws_env(part: Service | Worker, endpoints: Endpoints) -> dict[str, Value]:
    uses_aws = bool(part.tables or part.buckets or part.queues or getattr(part, "notification_topics", ()))
    if not uses_aws:
        return {}
    env: dict[str, Value] = {"AWS_REGION": endpoints.aws_region, "AWS_DEFAULT_REGION": endpoints.aws_region}
    for sdk_service, url in endpoints.aws_endpoint_urls.items():
        env["AWS_ENDPOINT_URL" + (f"_{env_suffix(sdk_service)}" if sdk_service else "")] = url
    if endpoints.aws_static_credentials:
        env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")
    for table in part.tables:
        env[f"TABLE_{env_suffix(table)}"] = endpoints.physical_name(table)
    for bucket in part.buckets:
        env[f"BUCKET_{env_suffix(bucket)}"] = endpoints.physical_name(bucket)
    for queue in part.queues:
        env[f"QUEUE_{env_suffix(queue)}_URL"] = endpoints.queue_urls[queue]
    for sns in getattr(part, "notification_topics", ()):
        env[f"SNS_TOPIC_{env_suffix(sns)}_ARN"] = endpoints.sns_topic_arns[sns]
    return env


def stream_job_env(job: StreamJob, endpoints: Endpoints) -> dict[str, Value]:
    """Every environment variable the PyFlink job reads (``stream/job.py``)."""
    env: dict[str, Value] = {"JOB_NAME": job.name, "LOG_LEVEL": endpoints.log_level}
    env.update(_kafka_env(endpoints.kafka))
    env.update(
        SOURCE_TOPIC=job.source,
        SINK_TOPIC=job.sink,
        KAFKA_CONSUMER_GROUP=job.consumer_group,
        WINDOW_SECONDS=str(job.window_seconds),
        WATERMARK_DELAY_S=str(job.watermark_delay_s),
        IDLE_TIMEOUT_S=str(job.idle_timeout_s),
        PARALLELISM=str(job.parallelism),
        CHECKPOINT_INTERVAL_S=str(job.checkpoint_interval_s),
    )
    return env
