"""Job settings from the environment the runtime gives it (blueprint.wiring.stream_job_env)."""

from __future__ import annotations

import pytest

from blueprint.topology import TOPOLOGY
from blueprint.wiring import Endpoints, KafkaEndpoint, MysqlEndpoint, stream_job_env
from stream.settings import JobSettings, SettingsError

JOB = TOPOLOGY.stream_jobs[0]


def endpoints(kafka: KafkaEndpoint) -> Endpoints:
    return Endpoints(
        mysql=MysqlEndpoint("127.0.0.1", 3306, {}), kafka=kafka, aws_region="us-east-1",
        service_urls={}, bind_host="127.0.0.1", service_ports={}, jwt_secret="x",
        admin_email="a@b.c", admin_password="pw", queue_urls={}, sns_topic_arns={},
    )


def test_every_wired_key_is_read() -> None:
    env = stream_job_env(JOB, endpoints(KafkaEndpoint("127.0.0.1:9092")))
    settings = JobSettings.from_env(env)
    assert settings == JobSettings(
        bootstrap_servers="127.0.0.1:9092", source_topic=JOB.source, sink_topic=JOB.sink,
        consumer_group=JOB.consumer_group, window_seconds=JOB.window_seconds,
        watermark_delay_s=JOB.watermark_delay_s, idle_timeout_s=JOB.idle_timeout_s,
        parallelism=JOB.parallelism, checkpoint_interval_s=JOB.checkpoint_interval_s,
        job_name=JOB.name, log_level="INFO",
    )


def test_sasl_settings_name_the_password_file_and_never_hold_the_password() -> None:
    kafka = KafkaEndpoint("b:9096", "SASL_SSL", "SCRAM-SHA-512", "svc", "s3cret")
    env = stream_job_env(JOB, endpoints(kafka))
    assert env["KAFKA_SASL_PASSWORD"] == "s3cret"  # what the supervisor gives the launcher
    with pytest.raises(SettingsError, match="KAFKA_SASL_PASSWORD_FILE is required"):
        JobSettings.from_env(env)
    env["KAFKA_SASL_PASSWORD_FILE"] = "/state/flink/secrets/kafka-client.properties"
    settings = JobSettings.from_env(env)
    assert settings.auth.security_protocol == "SASL_SSL"
    assert settings.auth.sasl_password_file == "/state/flink/secrets/kafka-client.properties"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("path", ["relative/kafka.properties", "/c:/kafka.properties", "/a}b"])
def test_a_password_file_the_placeholder_cannot_name_is_refused(path: str) -> None:
    env = stream_job_env(JOB, endpoints(KafkaEndpoint("b:9096", "SASL_SSL", "SCRAM-SHA-512", "svc", "pw")))
    env["KAFKA_SASL_PASSWORD_FILE"] = path
    with pytest.raises(SettingsError, match="absolute path"):
        JobSettings.from_env(env)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("KAFKA_BOOTSTRAP_SERVERS", "", "KAFKA_BOOTSTRAP_SERVERS is required"),
    ("WINDOW_SECONDS", "sixty", "WINDOW_SECONDS must be an integer"),
    ("PARALLELISM", "0", "PARALLELISM must be >= 1"),
])
def test_bad_values_are_named(key: str, value: str, message: str) -> None:
    env = stream_job_env(JOB, endpoints(KafkaEndpoint("k:9092")))
    env[key] = value
    with pytest.raises(SettingsError, match=message):
        JobSettings.from_env(env)
