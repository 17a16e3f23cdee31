"""Run by the Flink virtualenv's Python (``test_sasl_scram.py``): Flink's Kafka tables with the job's
own rendered options (``stream.sql.kafka_options``), through a SCRAM listener.

Reads every record of the source topic (bounded) into the sink topic through one INSERT, keeps that
INSERT's compiled plan in ``<state>/plan.json`` and the serialized job graph of the same INSERT
(what a JobManager receives and keeps) in ``<state>/jobgraph.bin``, then makes the job's own admin
call (``stream.kafka_admin.reset_consumer_group``) twice: with the settings' password file, and
with ``<wrong file>`` instead. Settings come from the environment, as the job's do. Prints one
line per admin call: ``admin call done`` or ``admin call failed: <the Java exception's line>``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from pyflink.common import Configuration
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.java_gateway import get_gateway
from pyflink.table import StreamTableEnvironment

from stream.kafka_admin import reset_consumer_group
from stream.settings import JobSettings
from stream.sql import kafka_options, with_clause


def main(state: Path, wrong_file: str) -> int:
    settings = JobSettings.from_env(os.environ)
    copy_through_flink(settings, state)
    wrong = replace(settings, auth=replace(settings.auth, sasl_password_file=wrong_file))
    for attempt in (settings, wrong):
        try:
            reset_consumer_group(attempt)
        except Exception as exc:  # the admin client's failure: the Java exception's line
            java = [line for line in str(exc).splitlines() if "Exception:" in line]
            print(f"admin call failed: {(java or [str(exc)])[0].strip()}")
        else:
            print("admin call done")
    return 0


def copy_through_flink(settings: JobSettings, state: Path) -> None:
    insert = "INSERT INTO dst SELECT UPPER(body) FROM src"
    plan = state / "plan.json"
    t_env = _tables(settings, _environment())
    t_env.execute_sql(f"COMPILE PLAN '{plan.as_uri()}' FOR {insert}")
    t_env.execute_sql(f"EXECUTE PLAN '{plan.as_uri()}'").wait()
    env = _environment()
    statements = _tables(settings, env).create_statement_set()
    statements.add_insert_sql(insert)
    statements.attach_as_datastream()
    job_graph = env._j_stream_execution_environment.getStreamGraph().getJobGraph()
    serialize = get_gateway().jvm.org.apache.flink.util.InstantiationUtil.serializeObject
    (state / "jobgraph.bin").write_bytes(bytes(serialize(job_graph)))


def _environment() -> StreamExecutionEnvironment:
    conf = Configuration()
    conf.set_string("parallelism.default", "1")
    conf.set_string("pipeline.jars", os.environ["ECOMCTL_PROBE_JARS"])
    return StreamExecutionEnvironment.get_execution_environment(conf)


def _tables(settings: JobSettings, env: StreamExecutionEnvironment) -> StreamTableEnvironment:
    t_env = StreamTableEnvironment.create(env)
    source = kafka_options(settings, settings.source_topic)
    source.update({"properties.group.id": settings.consumer_group, "scan.startup.mode": "earliest-offset",
                   "scan.bounded.mode": "latest-offset", "format": "json"})
    sink = kafka_options(settings, settings.sink_topic)
    sink.update({"format": "json", "sink.delivery-guarantee": "at-least-once"})
    t_env.execute_sql(f"CREATE TEMPORARY TABLE src (body STRING) {with_clause(source)}")
    t_env.execute_sql(f"CREATE TEMPORARY TABLE dst (body STRING) {with_clause(sink)}")
    return t_env


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2]))
