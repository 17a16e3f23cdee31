"""The SQL builders as text: options, event-time attributes, keys and the cancellation rule.

What the SQL computes is checked by running it (test_job_windows.py); these pin the parts a
refactor could silently change.
"""

from __future__ import annotations

import re

import pytest

from stream.settings import JobSettings, KafkaAuth
from stream.sql import (
    WINDOW_COLUMNS,
    heartbeat_ddl,
    insert_statements,
    kafka_options,
    quote,
    setup_statements,
    sink_ddl,
    source_ddl,
)

SETTINGS = JobSettings(bootstrap_servers="127.0.0.1:9092", source_topic="orders-events",
                       sink_topic="analytics-results", consumer_group="g", window_seconds=60,
                       watermark_delay_s=5)


def option(ddl: str, key: str) -> str | None:
    found = re.search(rf"'{re.escape(key)}' = '((?:[^']|'')*)'", ddl)
    return None if found is None else found.group(1).replace("''", "'")


def test_source_reads_event_time_with_bounded_delay() -> None:
    ddl = source_ddl(SETTINGS)
    assert "occurred_at TIMESTAMP_LTZ(3)" in ddl
    assert "WATERMARK FOR occurred_at AS occurred_at - INTERVAL '5' SECOND" in ddl
    assert option(ddl, "topic") == "orders-events"
    assert option(ddl, "properties.group.id") == "g"
    assert option(ddl, "scan.startup.mode") == "group-offsets"
    assert option(ddl, "json.ignore-parse-errors") == "true"
    assert option(ddl, "json.timestamp-format.standard") == "ISO-8601"


def test_every_window_uses_the_configured_size() -> None:
    statements = setup_statements(SETTINGS, 0) + insert_statements(SETTINGS)
    sizes = re.findall(r"TUMBLE\(TABLE \w+, DESCRIPTOR\(ts\), INTERVAL '(\d+)' SECOND\)", "\n".join(statements))
    assert sizes == ["60"] * 5  # two stage-1 views, three stage-2 inserts


def test_sinks_are_keyed_raw_and_at_least_once() -> None:
    ddl = sink_ddl(SETTINGS, "window_results", WINDOW_COLUMNS)
    assert option(ddl, "topic") == "analytics-results"
    assert option(ddl, "key.format") == "raw"
    assert option(ddl, "key.fields") == "result_key"
    assert option(ddl, "value.fields-include") == "EXCEPT_KEY"
    assert option(ddl, "sink.delivery-guarantee") == "at-least-once"


def test_keys_and_cancellations() -> None:
    window, product, user = insert_statements(SETTINGS)
    assert "SELECT 'window|' || ws, 'window'" in window
    assert "'product|' || ws || '|' || product_id" in product
    assert "'user|' || ws || '|' || user_id" in user
    # a cancellation subtracts in its own window and is counted
    assert "WHEN event_type = 'order.cancelled' THEN -total" in window
    assert "WHEN event_type = 'order.cancelled' THEN -units" in window
    assert "WHEN event_type = 'order.cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled_orders" in window
    assert "COUNT(DISTINCT CASE WHEN event_type = 'order.created' THEN user_id END)" in window
    for statement in (window, product, user):
        assert "WHERE event_type <> 'heartbeat'" in statement
        assert "DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''')" in statement


def test_no_python_udf_on_the_hot_path() -> None:
    text = "\n".join(setup_statements(SETTINGS, 0) + insert_statements(SETTINGS)).upper()
    assert "CREATE FUNCTION" not in text and "CREATE TEMPORARY FUNCTION" not in text


def test_literals_are_escaped() -> None:
    assert quote("it's") == "'it''s'"
    evil = JobSettings(bootstrap_servers="h:1", source_topic="t', 'connector' = 'x",
                       sink_topic="s", consumer_group="g")
    assert option(source_ddl(evil), "topic") == "t', 'connector' = 'x"
    assert option(source_ddl(evil), "connector") == "kafka"


def test_sasl_uses_the_connectors_shaded_login_module() -> None:
    auth = KafkaAuth("SASL_SSL", "SCRAM-SHA-512", "svc", 'p"w')
    options = kafka_options(JobSettings("b:1", "s", "t", "g", auth=auth), "s")
    assert options["properties.security.protocol"] == "SASL_SSL"
    assert options["properties.sasl.jaas.config"] == (
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule"
        ' required username="svc" password="p\\"w";')
    with pytest.raises(ValueError, match="unsupported"):
        kafka_options(JobSettings("b:1", "s", "t", "g", auth=KafkaAuth("SASL_SSL", "GSSAPI")), "s")


def test_heartbeat_stays_at_the_epoch_until_not_before() -> None:
    ddl = heartbeat_ddl(SETTINGS, not_before_ms=1_000_000)
    assert "CURRENT_TIMESTAMP < TO_TIMESTAMP_LTZ(1000000, 3)" in ddl
    assert "THEN TO_TIMESTAMP_LTZ(0, 3) ELSE CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)) END" in ddl
    assert "WATERMARK FOR ts AS ts - INTERVAL '5' SECOND" in ddl
