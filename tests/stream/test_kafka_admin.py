"""The job's own Kafka calls reach Kafka exactly as its source does (same client settings).

The group reset (``reset_consumer_group``) runs when a changed job's saved state no longer fits;
here the client properties it derives from the settings are pinned.
"""

from __future__ import annotations

from stream.kafka_admin import client_properties
from stream.settings import JobSettings, KafkaAuth
from stream.sql import kafka_options


def test_plain_connection_uses_the_sources_bootstrap_and_protocol() -> None:
    props = client_properties(JobSettings("127.0.0.1:19092", "orders-events", "results", "g"))
    assert props["bootstrap.servers"] == "127.0.0.1:19092"
    assert props["security.protocol"] == "PLAINTEXT"
    assert not any(key.startswith("properties.") for key in props)
    assert int(props["default.api.timeout.ms"]) <= 10_000  # each poll is bounded; the caller's deadline rules


def test_sasl_settings_are_the_connectors_own() -> None:
    auth = KafkaAuth("SASL_SSL", "SCRAM-SHA-512", "analytics", "/state/flink/secrets/kafka-client.properties")
    settings = JobSettings("b-1.msk:9096", "orders-events", "results", "g", auth=auth)
    props = client_properties(settings)
    connector = kafka_options(settings, "orders-events")
    for key in ("sasl.mechanism", "sasl.jaas.config", "security.protocol", "config.providers",
                "config.providers.file.class"):
        assert props[key] == connector[f"properties.{key}"]
    assert "ScramLoginModule" in props["sasl.jaas.config"]
