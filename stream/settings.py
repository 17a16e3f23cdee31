"""The stream job's settings, read once from the environment ``blueprint.wiring.stream_job_env`` builds.

Stdlib only: imported by the job inside the Flink virtualenv and by the unit tests in the main one.

==============================  ===========================================================================
``JOB_NAME``                    the Flink job name (default ``orders-analytics``)
``KAFKA_BOOTSTRAP_SERVERS``     required
``KAFKA_SECURITY_PROTOCOL``     ``PLAINTEXT`` (default), ``SSL``, ``SASL_SSL``, ...
``KAFKA_SASL_MECHANISM``        ``SCRAM-SHA-512``, ``SCRAM-SHA-256`` or ``PLAIN``, with ``KAFKA_SASL_USERNAME``
``KAFKA_SASL_PASSWORD_FILE``    required with a mechanism: the file the Kafka client reads the password
                                from (``stream.kafka_secret``); the job never sees the password itself
``SOURCE_TOPIC``                the ``orders-events`` topic
``SINK_TOPIC``                  the ``analytics-results`` topic
``KAFKA_CONSUMER_GROUP``        the source's consumer group (offsets committed on checkpoints)
``WINDOW_SECONDS``              tumbling window size (60)
``WATERMARK_DELAY_S``           bounded out-of-orderness (5)
``IDLE_TIMEOUT_S``              a partition without records for this long stops holding the watermark (10)
``PARALLELISM``                 default parallelism (1)
``CHECKPOINT_INTERVAL_S``       checkpoint interval (10)
``LOG_LEVEL``                   INFO
==============================  ===========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """A required key is missing or a value is malformed."""


@dataclass(frozen=True)
class KafkaAuth:
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password_file: str | None = None  # an absolute path (``stream.kafka_secret``), no password


@dataclass(frozen=True)
class JobSettings:
    bootstrap_servers: str
    source_topic: str
    sink_topic: str
    consumer_group: str
    window_seconds: int = 60
    watermark_delay_s: int = 5
    idle_timeout_s: int = 10
    parallelism: int = 1
    checkpoint_interval_s: int = 10
    job_name: str = "orders-analytics"
    log_level: str = "INFO"
    auth: KafkaAuth = KafkaAuth()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JobSettings:
        def required(key: str) -> str:
            value = env.get(key, "").strip()
            if not value:
                raise SettingsError(f"{key} is required")
            return value

        def positive(key: str, default: int) -> int:
            raw = env.get(key, "").strip()
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{key} must be an integer, got {raw!r}") from None
            if value < 1:
                raise SettingsError(f"{key} must be >= 1, got {value}")
            return value

        auth = KafkaAuth(
            security_protocol=env.get("KAFKA_SECURITY_PROTOCOL", "").strip() or "PLAINTEXT",
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM", "").strip() or None,
            sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
            sasl_password_file=env.get("KAFKA_SASL_PASSWORD_FILE", "").strip() or None,
        )
        if auth.sasl_mechanism:
            path = auth.sasl_password_file
            if path is None:
                raise SettingsError("KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM "
                                    "(stream/launch.py writes it from KAFKA_SASL_PASSWORD)")
            # the path goes into ``${file:<path>:password}``: a ':' or a brace would end it early
            if not path.startswith("/") or any(c in path for c in ":{}"):
                raise SettingsError(f"KAFKA_SASL_PASSWORD_FILE must be an absolute path without ':', "
                                    f"'{{' or '}}', got {path!r}")
        return cls(
            bootstrap_servers=required("KAFKA_BOOTSTRAP_SERVERS"),
            source_topic=required("SOURCE_TOPIC"),
            sink_topic=required("SINK_TOPIC"),
            consumer_group=required("KAFKA_CONSUMER_GROUP"),
            window_seconds=positive("WINDOW_SECONDS", 60),
            watermark_delay_s=positive("WATERMARK_DELAY_S", 5),
            idle_timeout_s=positive("IDLE_TIMEOUT_S", 10),
            parallelism=positive("PARALLELISM", 1),
            checkpoint_interval_s=positive("CHECKPOINT_INTERVAL_S", 10),
            job_name=env.get("JOB_NAME", "").strip() or "orders-analytics",
            log_level=env.get("LOG_LEVEL", "").strip() or "INFO",
            auth=auth,
        )
