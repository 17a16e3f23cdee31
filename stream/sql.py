"""The job's SQL, built from settings: pure string builders, no pyflink import (unit-tested as text).

Pipeline (every step is a built-in SQL operator, no Python UDF; all of it exists in Flink 1.15+
and 2.x: window TVFs, window de-duplication, cascading window aggregation, ``TRY_CAST``):

1. ``orders_events``: the Kafka source. ``occurred_at`` is the event-time attribute, parsed by the
   JSON format as ISO-8601 UTC (``...Z``, optional fraction); watermark = ``occurred_at -
   WATERMARK_DELAY_S``. Parse failures are skipped, never fatal. ``order_events``: the events that
   pass the event-level checks (the lines are checked in step 4).
2. ``windowed_events``: each order event assigned to its tumbling window. The watermark moves
   only with what Kafka carries: besides the events, the outbox relay's clock ticks
   (``services.kit.events.CLOCK``, on every partition every 1-5 s: the time of the oldest
   event it has not yet published). They fail the event checks and end in step 1, after moving the
   watermark. So a quiet shop's last window closes within ``WATERMARK_DELAY_S`` and 5 s of its
   end, and while the relay cannot publish (Kafka or the orders service down) no window closes: a
   backlog published afterwards is never late. No wall clock moves the watermark, so a restarted job
   has no start-up grace either.
3. ``unique_events`` (stage 1, keyed by event): window de-duplication, the first copy of each
   ``event_id`` per window. Redelivered copies (the outbox relay is at-least-once) are identical, so
   that copy is the event.
4. ``unique_lines``: the valid lines of those events (``CROSS JOIN UNNEST(items)``, done once).
5. Cascading window aggregations on ``window_time``: per product (from the lines); per event
   (``event_facts``: an event counts when it has a valid line); per user (``user_facts``, from the
   events, a NULL user included); per window (from the users: sums, and unique users = users with
   a created order). Cancellations count in the window of their own ``occurred_at``: +1
   ``cancelled_orders``, and their units and totals are subtracted (see docs/stream.md).
6. Three Kafka sinks on the one results topic, key = ``window|<start>`` /
   ``product|<start>|<id>`` / ``user|<start>|<id>`` (raw), value JSON; money as 2-decimal strings.
"""

from __future__ import annotations

from typing import NamedTuple

from stream.kafka_secret import PASSWORD_KEY, jaas_quoted
from stream.settings import JobSettings

CREATED = "order.created"
CANCELLED = "order.cancelled"
# the shaded Kafka client inside flink-sql-connector-kafka
_SHADED_KAFKA = "org.apache.flink.kafka.shaded.org.apache.kafka"
_LOGIN_MODULES = {
    "PLAIN": f"{_SHADED_KAFKA}.common.security.plain.PlainLoginModule",
    "SCRAM-SHA-256": f"{_SHADED_KAFKA}.common.security.scram.ScramLoginModule",
    "SCRAM-SHA-512": f"{_SHADED_KAFKA}.common.security.scram.ScramLoginModule",
}
_FILE_CONFIG_PROVIDER = f"{_SHADED_KAFKA}.common.config.provider.FileConfigProvider"
_TS_FORMAT = "yyyy-MM-dd''T''HH:mm:ss''Z''"
FETCH_MIN_BYTES = 64 * 1024
FETCH_MAX_WAIT_MS = 500
ITEMS_TYPE = "ARRAY<ROW<product_id STRING, quantity INT, unit_price STRING>>"


class View(NamedTuple):
    """A named query. The job registers it from one Table object (``create_temporary_view(name,
    sql_query(query))``), not with ``CREATE VIEW``: a SQL view is expanded again in every INSERT
    that reads it, and once a sink's filter is pushed into one copy the planner can no longer share
    them (``user_facts`` would be computed twice, from the unnest on)."""

    name: str
    query: str


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
        if not auth.sasl_password_file:
            raise ValueError("KAFKA_SASL_MECHANISM needs KAFKA_SASL_PASSWORD_FILE")
        user = jaas_quoted(auth.sasl_username or "")
        # the Kafka client substitutes the password from the file when it is created (KIP-421): it
        # is in no option, so in no job graph, compiled plan or log (see stream.kafka_secret)
        password = f"${{file:{auth.sasl_password_file}:{PASSWORD_KEY}}}"
        options["properties.sasl.mechanism"] = auth.sasl_mechanism.upper()
        options["properties.config.providers"] = "file"
        options["properties.config.providers.file.class"] = _FILE_CONFIG_PROVIDER
        options["properties.sasl.jaas.config"] = f'{module} required username="{user}" password="{password}";'
    return options


def source_ddl(settings: JobSettings) -> str:
    options = kafka_options(settings, settings.source_topic)
    options.update({
        "properties.group.id": settings.consumer_group,
        # from the checkpoint when restoring; otherwise the group's committed offsets, else earliest
        "scan.startup.mode": "group-offsets",
        "properties.auto.offset.reset": "earliest",
        # the broker holds a fetch until 64 KiB of events are there or 500 ms passed, rather than
        # answering one fetch per relay batch: fewer fetches for the job and for Kafka; the
        # windows are a minute long and close on the relay's clock ticks, so 500 ms is nothing
        # (measured at 150 orders/s: the source's fetcher thread 0.11 -> 0.03 ms CPU per order)
        "properties.fetch.min.bytes": str(FETCH_MIN_BYTES),
        "properties.fetch.max.wait.ms": str(FETCH_MAX_WAIT_MS),
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
  items {ITEMS_TYPE},
  total STRING,
  currency STRING,
  WATERMARK FOR occurred_at AS occurred_at - INTERVAL '{settings.watermark_delay_s}' SECOND
) {with_clause(options)}"""


def order_events_view() -> View:
    """Event-level checks; the lines are checked after de-duplication (``unique_lines``)."""
    return View("order_events", f"""SELECT
  event_id,
  `type` AS event_type,
  user_id,
  TRY_CAST(total AS DECIMAL(18, 2)) AS total,
  items,
  occurred_at AS ts
FROM orders_events
WHERE occurred_at IS NOT NULL
  AND event_id IS NOT NULL
  AND `type` IN ({quote(CREATED)}, {quote(CANCELLED)})
  AND TRY_CAST(total AS DECIMAL(18, 2)) IS NOT NULL""")


def _tumble(table: str, settings: JobSettings) -> str:
    return f"TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '{settings.window_seconds}' SECOND))"


def windowed_events_view(settings: JobSettings) -> View:
    """The order events, each assigned to its window."""
    return View("windowed_events", f"""SELECT
  window_start, window_end, window_time, event_id, event_type, user_id, total, items, ts
FROM {_tumble("order_events", settings)}""")


def unique_events_view() -> View:
    """Stage 1: one row per window and event_id (window de-duplication: redelivered copies of an
    event are identical, so keeping the first is keeping the event)."""
    return View("unique_events", """SELECT window_time AS ts, event_id, event_type, user_id, total, items
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, event_id ORDER BY ts) AS copy_rank
  FROM windowed_events
)
WHERE copy_rank = 1""")


def unique_lines_view() -> View:
    """The valid lines of the de-duplicated events."""
    return View("unique_lines", """SELECT
  u.ts, u.event_id, u.event_type, u.user_id, u.total,
  i.product_id,
  i.quantity,
  TRY_CAST(i.unit_price AS DECIMAL(18, 2)) AS unit_price
FROM unique_events AS u
CROSS JOIN UNNEST(u.items) AS i (product_id, quantity, unit_price)
WHERE i.product_id IS NOT NULL
  AND i.quantity IS NOT NULL AND i.quantity > 0
  AND TRY_CAST(i.unit_price AS DECIMAL(18, 2)) IS NOT NULL""")


def event_facts_view(settings: JobSettings) -> View:
    """Stage 2: one row per window and event with at least one valid line."""
    return View("event_facts", f"""SELECT
  window_time AS ts, event_id,
  MAX(event_type) AS event_type,
  MAX(user_id) AS user_id,
  MAX(total) AS total,
  CAST(SUM(quantity) AS BIGINT) AS units
FROM {_tumble("unique_lines", settings)}
GROUP BY window_start, window_end, window_time, event_id""")


def user_facts_view(settings: JobSettings) -> View:
    """Stage 3: one row per window and user (NULL user_id included: it still counts in the window)."""
    return View("user_facts", f"""SELECT
  window_start AS user_window_start, window_end AS user_window_end, window_time AS ts, user_id,
  CAST(SUM(CASE WHEN event_type = {quote(CREATED)} THEN 1 ELSE 0 END) AS BIGINT) AS orders,
  CAST(SUM(CASE WHEN event_type = {quote(CANCELLED)} THEN 1 ELSE 0 END) AS BIGINT) AS cancelled_orders,
  CAST(SUM({_signed("units")}) AS BIGINT) AS units,
  SUM({_signed("total")}) AS revenue
FROM {_tumble("event_facts", settings)}
GROUP BY window_start, window_end, window_time, user_id""")


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
    """Stage 4: the window figures, a cascade over the per-user figures."""
    return f"""INSERT INTO window_results
SELECT 'window|' || ws, 'window', ws, we, orders, units, {_money("revenue")}, unique_users, cancelled_orders
FROM (
  SELECT
    {_stamp("window_start")} AS ws,
    {_stamp("window_end")} AS we,
    CAST(SUM(orders) AS BIGINT) AS orders,
    CAST(SUM(cancelled_orders) AS BIGINT) AS cancelled_orders,
    CAST(SUM(units) AS BIGINT) AS units,
    SUM(revenue) AS revenue,
    CAST(SUM(CASE WHEN user_id IS NOT NULL AND orders > 0 THEN 1 ELSE 0 END) AS BIGINT) AS unique_users
  FROM {_tumble("user_facts", settings)}
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
    CAST(SUM({_signed("quantity")}) AS BIGINT) AS units,
    SUM({_signed("quantity * unit_price")}) AS revenue
  FROM {_tumble("unique_lines", settings)}
  GROUP BY window_start, window_end, product_id
)"""


def user_insert(_settings: JobSettings) -> str:
    return f"""INSERT INTO user_results
SELECT 'user|' || ws || '|' || user_id, 'user', ws, we, user_id, orders, {_money("revenue")}
FROM (
  SELECT {_stamp("user_window_start")} AS ws, {_stamp("user_window_end")} AS we, user_id, orders, revenue
  FROM user_facts
  WHERE user_id IS NOT NULL
)"""


def table_statements(settings: JobSettings) -> list[str]:
    """The source and sink tables (each one ``execute_sql``)."""
    return [
        source_ddl(settings),
        sink_ddl(settings, "window_results", WINDOW_COLUMNS),
        sink_ddl(settings, "product_results", PRODUCT_COLUMNS),
        sink_ddl(settings, "user_results", USER_COLUMNS),
    ]


def views(settings: JobSettings) -> list[View]:
    """The pipeline's views, in dependency order (each registered from one ``sql_query`` Table)."""
    return [
        order_events_view(),
        windowed_events_view(settings),
        unique_events_view(),
        unique_lines_view(),
        event_facts_view(settings),
        user_facts_view(settings),
    ]


def insert_statements(settings: JobSettings) -> list[str]:
    """The three INSERTs, submitted together as one statement set (one Flink job)."""
    return [window_insert(settings), product_insert(settings), user_insert(settings)]
