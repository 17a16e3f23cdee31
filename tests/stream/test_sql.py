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
    insert_statements,
    kafka_options,
    quote,
    sink_ddl,
    source_ddl,
    table_statements,
    views,
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


def all_sql() -> str:
    return "\n".join(table_statements(SETTINGS) + [v.query for v in views(SETTINGS)]
                     + insert_statements(SETTINGS))


def test_every_window_uses_the_configured_size() -> None:
    sizes = re.findall(r"TUMBLE\(TABLE \w+, DESCRIPTOR\(ts\), INTERVAL '(\d+)' SECOND\)", all_sql())
    assert sizes == ["60"] * 5  # orders into windows; event, user, window, product sums


def test_views_are_queries_in_dependency_order() -> None:
    names = [v.name for v in views(SETTINGS)]
    assert names == ["order_events", "windowed_events", "unique_events", "unique_lines", "event_facts",
                     "user_facts"]
    for index, view in enumerate(views(SETTINGS)):
        assert view.query.startswith("SELECT")  # registered from a Table object, not CREATE VIEW
        read = set(re.findall(r"(?:FROM|TABLE) (?!TABLE\b)(\w+)", view.query))
        assert read <= {"orders_events", *names[:index]}, view.name


def test_copies_of_an_event_collapse_before_its_lines_are_counted() -> None:
    queries = {v.name: v.query for v in views(SETTINGS)}
    dedup = queries["unique_events"]
    assert "ROW_NUMBER() OVER (PARTITION BY window_start, window_end, event_id ORDER BY ts)" in dedup
    assert "WHERE copy_rank = 1" in dedup
    assert "FROM unique_events AS u\nCROSS JOIN UNNEST(u.items)" in queries["unique_lines"]
    assert "DISTINCT" not in all_sql()  # nothing after the de-duplication tells copies apart


def test_sinks_are_keyed_raw_and_at_least_once() -> None:
    ddl = sink_ddl(SETTINGS, "window_results", WINDOW_COLUMNS)
    assert option(ddl, "topic") == "analytics-results"
    assert option(ddl, "key.format") == "raw"
    assert option(ddl, "key.fields") == "result_key"
    assert option(ddl, "value.fields-include") == "EXCEPT_KEY"
    assert option(ddl, "sink.delivery-guarantee") == "at-least-once"


def test_keys_and_cancellations() -> None:
    window, product, user = insert_statements(SETTINGS)
    user_facts = {v.name: v.query for v in views(SETTINGS)}["user_facts"]
    assert "SELECT 'window|' || ws, 'window'" in window
    assert "'product|' || ws || '|' || product_id" in product
    assert "'user|' || ws || '|' || user_id" in user
    # a cancellation subtracts in its own window and is counted
    assert "WHEN event_type = 'order.cancelled' THEN -total" in user_facts
    assert "WHEN event_type = 'order.cancelled' THEN -units" in user_facts
    assert "WHEN event_type = 'order.cancelled' THEN -quantity * unit_price" in product
    assert "WHEN event_type = 'order.cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled_orders" in user_facts
    # the window's figures are sums over its users; unique users = users with a created order
    assert "FROM TABLE(TUMBLE(TABLE user_facts" in window
    assert "SUM(CASE WHEN user_id IS NOT NULL AND orders > 0 THEN 1 ELSE 0 END)" in window
    assert "WHERE user_id IS NOT NULL" in user
    for statement in (window, product):
        assert "DATE_FORMAT(window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''')" in statement
    assert "DATE_FORMAT(user_window_start, 'yyyy-MM-dd''T''HH:mm:ss''Z''')" in user


def test_no_python_udf_on_the_hot_path() -> None:
    text = all_sql().upper()
    assert "CREATE FUNCTION" not in text and "CREATE TEMPORARY FUNCTION" not in text


def test_literals_are_escaped() -> None:
    assert quote("it's") == "'it''s'"
    evil = JobSettings(bootstrap_servers="h:1", source_topic="t', 'connector' = 'x",
                       sink_topic="s", consumer_group="g")
    assert option(source_ddl(evil), "topic") == "t', 'connector' = 'x"
    assert option(source_ddl(evil), "connector") == "kafka"


def test_sasl_uses_the_connectors_shaded_classes_and_no_password() -> None:
    auth = KafkaAuth("SASL_SSL", "SCRAM-SHA-512", 'svc"1', "/state/flink/secrets/kafka-client.properties")
    options = kafka_options(JobSettings("b:1", "s", "t", "g", auth=auth), "s")
    assert options["properties.security.protocol"] == "SASL_SSL"
    assert options["properties.sasl.mechanism"] == "SCRAM-SHA-512"
    # the Kafka client itself reads the password from the file (KIP-421 config provider)
    assert options["properties.config.providers"] == "file"
    assert options["properties.config.providers.file.class"] == (
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.config.provider.FileConfigProvider")
    assert options["properties.sasl.jaas.config"] == (
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule"
        ' required username="svc\\"1" password="${file:/state/flink/secrets/kafka-client.properties:password}";')
    with pytest.raises(ValueError, match="unsupported"):
        kafka_options(JobSettings("b:1", "s", "t", "g", auth=KafkaAuth("SASL_SSL", "GSSAPI", "u", "/f")), "s")
    with pytest.raises(ValueError, match="KAFKA_SASL_PASSWORD_FILE"):
        kafka_options(JobSettings("b:1", "s", "t", "g", auth=KafkaAuth("SASL_SSL", "PLAIN", "u")), "s")
