"""The job's SQL, built from settings: pure string builders, no pyflink import (unit-tested as text).

Pipeline (every step is a built-in SQL operator, no Python UDF; all of it exists in Flink 1.15+
and 2.x: window TVFs, cascading window aggregation, ``TRY_CAST``, Kafka metadata columns):

1. ``orders_events``: the Kafka source. ``occurred_at`` is the event-time attribute, parsed by the
   JSON format as ISO-8601 UTC (``...Z``, optional fraction); watermark = ``occurred_at -
   WATERMARK_DELAY_S``. Parse failures are skipped, never fatal.
2. ``order_lines``: one row per order line (``CROSS JOIN UNNEST(items)``), valid rows only, with a
   ``copy_id`` (Kafka partition and offset in one BIGINT) telling apart redelivered copies of one event.
3. ``heartbeat``: a ``datagen`` source ticking once a second whose event time is the wall clock;
   ``timed_lines`` = order lines ``UNION ALL`` heartbeats. While the Kafka source has data, the
   union's watermark is the minimum of both (Kafka's); when every partition has been idle for
   ``IDLE_TIMEOUT_S`` (``table.exec.source.idle-timeout``), only the heartbeat drives it, so the last
   window of a quiet shop still closes ``WATERMARK_DELAY_S`` after its end. For a grace period after
   the start (``--heartbeat-grace-s``) the heartbeat stays at the epoch, so a backlog read at
   start-up is never overtaken by the wall clock.
4. Stage 1 (per window, per event / per event and product): de-duplication. Redelivered copies of
   one ``event_id`` (the outbox relay is at-least-once) are identical, so ``SUM(x) /
   COUNT(DISTINCT copy_id)`` is the value of one copy.
5. Stage 2 (cascading window aggregation on stage 1's ``window_time``): per window, per product,
   per user. Cancellations count in the window of their own ``occurred_at``: +1
   ``cancelled_orders``, and their units and totals are subtracted (see docs/stream.md).
6. Three Kafka sinks on the one results topic, key = ``window|<start>`` /
   ``product|<start>|<id>`` / ``user|<start>|<id>`` (raw), value JSON; money as 2-decimal strings.
"""

from __future__ import annotations

from stream.settings import JobSettings

CREATED = "order.created"
CANCELLED = "order.cancelled"
HEARTBEAT = "heartbeat"
# the shaded Kafka client inside flink-sql-connector-kafka
_SHADED_KAFKA = "org.apache.flink.kafka.shaded.org.apache.kafka"
_LOGIN_MODULES = {
    "PLAIN": f"{_SHADED_KAFKA}.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": f"{_SHADED_KAFKA}.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": f"{_SHADED_KAFKA}.common.security.scram.ScramLoginModule",
}
_TS_FORMAT = "yyyy-MM-dd''T''HH:mm:ss''Z''"


def quote(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def with_clause(options: dict[str, str]) -> str:
    body = ",\n  ".join(f"{quote(k)} = {quote(v)}" for k, v in options.items())
    return f"WITH (\n  {body}\n)"


def kafka_options(settings: JobSettings, topic: str) -> dict[str, str]:
    """Connection options shared by the source and the sinks."""
    auth = settings.auth
    options = {
        "connector": "kafka",
        "topic": topic,
        "properties.bootstrap.servers": settings.bootstrap_servers,
        "properties.security.protocol": auth.security_protocol,
    }
    if auth.sasl_mechanism:
        module = _LOGIN_MODULES.get(auth.sasl_mechanism.upper())
        if module is None:
            raise ValueError(f"unsupported KAFKA_SASL_MECHANISM {auth.sasl_mechanism!r}")
        user = (auth.sasl_username or "").replace('"', '\\"')
        password = (auth.sasl_password or "").replace('"', '\\"')
        options["properties.sasl.mechanism"] = auth.sasl_mechanism.upper()
        options["properties.sasl.jaas.config"] = (
            f'{module} required username="{user}" password="{password}";'
        )
    return options


def source_ddl(settings: JobSettings) -> str:
    options = kafka_options(settings, settings.source_topic)
    options.update({
        "properties.group.id": settings.consumer_group,
        # from the checkpoint when restoring; otherwise the group's committed offsets, else earliest
        "scan.startup.mode": "group-offsets",
        "properties.auto.offset.reset": "earliest",
        "format": "json",
        "json.ignore-parse-errors": "true",
        "json.fail-on-missing-field": "false",
        "json.timestamp-format.standard": "ISO-8601",
    })
    return f"""CREATE TEMPORARY TABLE orders_events (
  event_id STRING,
  `type` STRING,
  occurred_at TIMESTAMP_LTZ(3),
  order_id STRING,
  user_id STRING,
  items ARRAY<ROW<product_id STRING, quantity INT, unit_price STRING>>,
  total STRING,
  currency STRING,
  `partition` INT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  WATERMARK FOR occurred_at AS occurred_at - INTERVAL '{settings.watermark_delay_s}' SECOND
) {with_clause(options)}"""


def order_lines_view() -> str:
    return f"""CREATE TEMPORARY VIEW order_lines AS
SELECT
  e.event_id,
  e.`type` AS event_type,
  e.user_id,
  TRY_CAST(e.total AS DECIMAL(18, 2)) AS total,
  CAST(e.`partition` AS BIGINT) * 1099511627776 + e.`offset` AS copy_id,  -- partition:offset as one BIGINT
  i.product_id,
  i.quantity,
  TRY_CAST(i.unit_price AS DECIMAL(18, 2)) AS unit_price,
  e.occurred_at AS ts
FROM orders_events AS e
CROSS JOIN UNNEST(e.items) AS i (product_id, quantity, unit_price)
WHERE e.occurred_at IS NOT NULL
  AND e.event_id IS NOT NULL
  AND e.`type` IN ({quote(CREATED)}, {quote(CANCELLED)})
  AND TRY_CAST(e.total AS DECIMAL(18, 2)) IS NOT NULL
  AND i.product_id IS NOT NULL
  AND i.quantity IS NOT NULL AND i.quantity > 0
  AND TRY_CAST(i.unit_price AS DECIMAL(18, 2)) IS NOT NULL"""


def heartbeat_ddl(settings: JobSettings, not_before_ms: int) -> str:
    """Wall-clock event time, except before ``not_before_ms`` (epoch ms, a grace period after start).

    Until the Kafka reader has its partitions and has read something, Flink may call it idle (after
    ``IDLE_TIMEOUT_S``): a wall-clock heartbeat would then move the watermark past a whole backlog
    (a restart after downtime, a replay) and drop it as late. Before ``not_before_ms`` the
    heartbeat's time is the epoch, so Kafka alone drives the watermark.
    """
    return f"""CREATE TEMPORARY TABLE heartbeat (
  beat INT,
  ts AS CASE WHEN CURRENT_TIMESTAMP < TO_TIMESTAMP_LTZ({not_before_ms}, 3)
    THEN TO_TIMESTAMP_LTZ(0, 3) ELSE CAST(CURRENT_TIMESTAMP AS TIMESTAMP_LTZ(3)) END,
  WATERMARK FOR ts AS ts - INTERVAL '{settings.watermark_delay_s}' SECOND
) {with_clause({"connector": "datagen", "rows-per-second": "1"})}"""


def timed_lines_view() -> str:
    return f"""CREATE TEMPORARY VIEW timed_lines AS
SELECT event_id, event_type, user_id, total, copy_id, product_id, quantity, unit_price, ts
FROM order_lines
UNION ALL
SELECT {quote(HEARTBEAT)}, {quote(HEARTBEAT)}, CAST(NULL AS STRING), CAST(NULL AS DECIMAL(18, 2)),
  CAST(beat AS BIGINT), CAST(NULL AS STRING), 0, CAST(NULL AS DECIMAL(18, 2)), ts
FROM heartbeat"""


def _tumble(table: str, settings: JobSettings) -> str:
    return f"TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '{settings.window_seconds}' SECOND))"


def event_facts_view(settings: JobSettings) -> str:
    """Stage 1: one row per window and event_id (redelivered copies collapsed)."""
    return f"""CREATE TEMPORARY VIEW event_facts AS
SELECT
  window_time AS ts, event_id,
  MAX(event_type) AS event_type,
  MAX(user_id) AS user_id,
  MAX(total) AS total,
  CAST(SUM(quantity) / COUNT(DISTINCT copy_id) AS BIGINT) AS units
FROM {_tumble("timed_lines", settings)}
GROUP BY window_start, window_end, window_time, event_id"""


def product_facts_view(settings: JobSettings) -> str:
    """Stage 1: one row per window, event_id and product (redelivered copies collapsed)."""
    return f"""CREATE TEMPORARY VIEW product_facts AS
SELECT
  window_time AS ts, event_id, product_id,
  MAX(event_type) AS event_type,
  CAST(SUM(quantity) / COUNT(DISTINCT copy_id) AS BIGINT) AS units,
  CAST(SUM(quantity * unit_price) / COUNT(DISTINCT copy_id) AS DECIMAL(18, 2)) AS revenue
FROM {_tumble("timed_lines", settings)}
GROUP BY window_start, window_end, window_time, event_id, product_id"""


def _signed(column: str) -> str:
    return (f"CASE WHEN event_type = {quote(CREATED)} THEN {column} "
            f"WHEN event_type = {quote(CANCELLED)} THEN -{column} END")


def _money(expr: str) -> str:
    return f"CAST(CAST({expr} AS DECIMAL(18, 2)) AS STRING)"


def _stamp(column: str) -> str:
    return f"DATE_FORMAT({column}, '{_TS_FORMAT}')"


def sink_ddl(settings: JobSettings, table: str, columns: str) -> str:
    options = kafka_options(settings, settings.sink_topic)
    options.update({
        "key.format": "raw",
        "key.fields": "result_key",
        "value.format": "json",
        "value.fields-include": "EXCEPT_KEY",
        # consumers upsert by key, so a replay after a restore overwrites with identical values
        "sink.delivery-guarantee": "at-least-once",
    })
    return f"CREATE TEMPORARY TABLE {table} (\n  result_key STRING,\n  {columns}\n) {with_clause(options)}"


WINDOW_COLUMNS = ("kind STRING, window_start STRING, window_end STRING, orders BIGINT, units BIGINT, "
                  "revenue STRING, unique_users BIGINT, cancelled_orders BIGINT")
PRODUCT_COLUMNS = ("kind STRING, window_start STRING, window_end STRING, product_id STRING, units BIGINT, "
                   "revenue STRING")
USER_COLUMNS = ("kind STRING, window_start STRING, window_end STRING, user_id STRING, orders BIGINT, "
                "revenue STRING")


def window_insert(settings: JobSettings) -> str:
    return f"""INSERT INTO window_results
SELECT 'window|' || ws, 'window', ws, we, orders, units, {_money("revenue")}, unique_users, cancelled_orders
FROM (
  SELECT
    {_stamp("window_start")} AS ws,
    {_stamp("window_end")} AS we,
    CAST(SUM(CASE WHEN event_type = {quote(CREATED)} THEN 1 ELSE 0 END) AS BIGINT) AS orders,
    CAST(SUM(CASE WHEN event_type = {quote(CANCELLED)} THEN 1 ELSE 0 END) AS BIGINT) AS cancelled_orders,
    CAST(SUM({_signed("units")}) AS BIGINT) AS units,
    SUM({_signed("total")}) AS revenue,
    COUNT(DISTINCT CASE WHEN event_type = {quote(CREATED)} THEN user_id END) AS unique_users
  FROM {_tumble("event_facts", settings)}
  WHERE event_type <> {quote(HEARTBEAT)}
  GROUP BY window_start, window_end
)"""


def product_insert(settings: JobSettings) -> str:
    return f"""INSERT INTO product_results
SELECT 'product|' || ws || '|' || product_id, 'product', ws, we, product_id, units, {_money("revenue")}
FROM (
  SELECT
    {_stamp("window_start")} AS ws,
    {_stamp("window_end")} AS we,
    product_id,
    CAST(SUM({_signed("units")}) AS BIGINT) AS units,
    SUM({_signed("revenue")}) AS revenue
  FROM {_tumble("product_facts", settings)}
  WHERE event_type <> {quote(HEARTBEAT)} AND product_id IS NOT NULL
  GROUP BY window_start, window_end, product_id
)"""


def user_insert(settings: JobSettings) -> str:
    return f"""INSERT INTO user_results
SELECT 'user|' || ws || '|' || user_id, 'user', ws, we, user_id, orders, {_money("revenue")}
FROM (
  SELECT
    {_stamp("window_start")} AS ws,
    {_stamp("window_end")} AS we,
    user_id,
    CAST(SUM(CASE WHEN event_type = {quote(CREATED)} THEN 1 ELSE 0 END) AS BIGINT) AS orders,
    SUM({_signed("total")}) AS revenue
  FROM {_tumble("event_facts", settings)}
  WHERE event_type <> {quote(HEARTBEAT)} AND user_id IS NOT NULL
  GROUP BY window_start, window_end, user_id
)"""


def setup_statements(settings: JobSettings, heartbeat_not_before_ms: int) -> list[str]:
    """DDL and views, in order (each one ``execute_sql``)."""
    return [
        source_ddl(settings),
        order_lines_view(),
        heartbeat_ddl(settings, heartbeat_not_before_ms),
        timed_lines_view(),
        event_facts_view(settings),
        product_facts_view(settings),
        sink_ddl(settings, "window_results", WINDOW_COLUMNS),
        sink_ddl(settings, "product_results", PRODUCT_COLUMNS),
        sink_ddl(settings, "user_results", USER_COLUMNS),
    ]


def insert_statements(settings: JobSettings) -> list[str]:
    """The three INSERTs, submitted together as one statement set (one Flink job)."""
    return [window_insert(settings), product_insert(settings), user_insert(settings)]
