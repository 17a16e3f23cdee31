"""The job's own Kafka calls reach Kafka exactly as its source does (same client settings).

The source-topic wait runs in every platform start (the job starts alongside Kafka and waits for
its topic), the group reset in tests/stream/test_job_upgrade.py; here the client properties they
derive from the settings are pinned.
"""

from __future__ import annotations

import uuid

import pytest

from ecomctl.local.platform import LocalPlatform
from stream.kafka_admin import client_properties
from stream.kafka_metadata import KafkaUnavailable, topic_exists
from stream.settings import JobSettings, KafkaAuth
from stream.sql import kafka_options


def test_plain_connection_uses_the_sources_bootstrap_and_protocol() -> None:
    props = client_properties(JobSettings("127.0.0.1:19092", "orders-events", "results", "g"))
    assert props["bootstrap.servers"] == "127.0.0.1:19092"
    assert props["security.protocol"] == "PLAINTEXT"
    assert not any(key.startswith("properties.") for key in props)
    assert int(props["default.api.timeout.ms"]) <= 10_000  # each poll is bounded; the caller's deadline rules


def test_sasl_settings_are_the_connectors_own() -> None:
    auth = KafkaAuth("SASL_SSL", "SCRAM-SHA-512", "analytics", 'pa"ss')
    settings = JobSettings("b-1.msk:9096", "orders-events", "results", "g", auth=auth)
    props = client_properties(settings)
    connector = kafka_options(settings, "orders-events")
    for key in ("sasl.mechanism", "sasl.jaas.config", "security.protocol"):
        assert props[key] == connector[f"properties.{key}"]
    assert "ScramLoginModule" in props["sasl.jaas.config"]


@pytest.mark.platform
def test_topic_exists_asks_the_real_broker_without_creating_anything(platform: LocalPlatform) -> None:
    bootstrap = platform.kafka_bootstrap
    assert topic_exists(bootstrap, "orders-events")
    missing = f"no-such-topic-{uuid.uuid4().hex[:8]}"
    assert not topic_exists(bootstrap, missing)
    assert not topic_exists(bootstrap, missing)  # the question did not create it
    with pytest.raises(KafkaUnavailable):
        topic_exists("127.0.0.1:1", "orders-events", timeout_s=1)
