"""The orders-analytics Flink job: entry point (runs in the Flink virtualenv, ``.venv-flink``).

Submitted with ``flink run -t local --python stream/job.py --jarfile <kafka connector>`` locally
(``stream.setup.job_command``) and with the same ``--python`` file on Dataproc (docs/stream.md).
Reads its settings from the environment (``stream.settings``), builds the SQL from ``stream.sql``,
resumes from the newest retained checkpoint or savepoint under ``--state-dir``/flink, submits one
job (a statement set of three INSERTs, as a Flink compiled plan: ``COMPILE PLAN`` on a first start,
``EXECUTE PLAN`` on every start) and then stays in the foreground. Its source topic exists when it
is waited for right before the job is submitted: locally the process starts with Kafka, and its JVM,
PyFlink and the plan load while Kafka starts and its topics are provisioned.

* every 2 s (every 0.2 s until it is RUNNING) it writes ``status.json`` (the job's state as Flink
  reports it);
* it exits non-zero when the job fails (after Flink's own few restarts), zero when it finishes;
* on SIGTERM/SIGINT it stops the job with a savepoint (best effort, bounded) and exits zero.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: `stream` is stdlib-only

from stream.checkpoints import StateLayout, latest_restore_point, prune, set_aside
from stream.flinkconf import flink_config
from stream.kafka_admin import reset_consumer_group, wait_for_source
from stream.settings import JobSettings, SettingsError
from stream.sql import insert_statements, table_statements, views
from stream.status import write_status

log = logging.getLogger("stream.job")
POLL_S = 2.0
# Until the job is RUNNING its status is polled faster: `up` waits for RUNNING (status.json).
STARTING_POLL_S = 0.2
# Exit code after setting aside state that does not fit this job: the supervisor starts it again.
START_OVER = 75
# Flink's words (1.x and 2.x) when a checkpoint has state for an operator the job no longer has.
_STATE_DOES_NOT_FIT = "Cannot map checkpoint/savepoint state"
SAVEPOINT_TIMEOUT_S = 30.0
# How long a start waits for its source topic (Kafka starting, topics being provisioned).
SOURCE_WAIT_S = 300.0
# Configuration that differs between starts of the same job and does not shape its plan.
START_ONLY_KEYS = frozenset({"execution.savepoint.path"})
_stop = {"requested": False}


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    log.info("signal %s: stopping the job with a savepoint", signum)
    _stop["requested"] = True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stream/job.py", description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, required=True, help="checkpoints, savepoints, status")
    parser.add_argument("--jar", action="append", default=[], type=Path,
                        help="connector jar to add (when not submitted with flink run --jarfile)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = JobSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"stream job: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    layout = StateLayout.under(args.state_dir)
    layout.create()
    write_status(layout.status_file, "STARTING")
    restore = latest_restore_point(layout)
    for gone in prune(layout, keep=restore):
        log.info("pruned old state %s", gone)
    config = flink_config(settings, layout, restore)
    if args.jar:
        config["pipeline.jars"] = ";".join(j.resolve().as_uri() for j in args.jar)
    log.info("starting %s (parallelism %s, window %ss, watermark delay %ss), restore from %s",
             settings.job_name, settings.parallelism, settings.window_seconds,
             settings.watermark_delay_s, restore or "nothing (first start)")
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    return _run(settings, layout, config, restore)


def _run(settings: JobSettings, layout: StateLayout, config: dict[str, str], restore: Path | None) -> int:
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    # No Python UDF runs in this job: skip PyFlink's local "loopback" UDF worker server, which
    # would otherwise listen on every interface.
    os.environ.setdefault("_python_worker_execution_mode", "process")
    conf = Configuration()
    for key, value in config.items():
        conf.set_string(key, value)
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    t_env = StreamTableEnvironment.create(env)
    for key, value in config.items():
        t_env.get_config().set(key, value)
    for statement in table_statements(settings):
        t_env.execute_sql(statement)
    plan = plan_file(layout.plans, _flink_version(), settings, config)
    if plan.is_file():
        log.info("running the compiled plan %s of an earlier start", plan.name)
    else:
        _compile_plan(t_env, settings, plan)
    if not wait_for_source(settings, lambda: _stop["requested"], SOURCE_WAIT_S):
        if _stop["requested"]:
            write_status(layout.status_file, "STOPPED")
            return 0
        raise RuntimeError(f"the source topic {settings.source_topic} did not appear within "
                           f"{SOURCE_WAIT_S:.0f} s (is Kafka up and provisioned?)")
    try:
        client = t_env.execute_sql(f"EXECUTE PLAN {_sql_string(plan.resolve().as_uri())}").get_job_client()
    except Exception as exc:
        if restore is not None and _STATE_DOES_NOT_FIT in str(exc):
            return _start_over(settings, layout, restore)
        with contextlib.suppress(OSError):  # in case the plan is what failed: the next start compiles it
            plan.unlink()
        raise
    if client is None:
        raise RuntimeError("the compiled plan was executed, but Flink returned no job client")
    job_id = str(client.get_job_id())
    restored = None if restore is None else str(restore)
    log.info("submitted job %s", job_id)
    while True:
        state = client.get_job_status().result().name
        write_status(layout.status_file, state, job_id=job_id, restored_from=restored)
        if state in ("FAILED", "CANCELED", "FINISHED"):
            return _finish(client, state)
        if _stop["requested"]:
            return _stop_with_savepoint(client, layout, job_id, restored)
        _sleep_unless_stopped(POLL_S if state == "RUNNING" else STARTING_POLL_S)


def _flink_version() -> str:
    from pyflink.version import __version__

    return str(__version__)


def plan_file(directory: Path, flink_version: str, settings: JobSettings, config: dict[str, str]) -> Path:
    """Where the job's compiled plan is kept: named by a digest of everything that shapes it.

    The Flink version, the statements (tables, views, INSERTs) and the configuration except the
    restore point. The tables are temporary: a compiled plan keeps their names only and reads their
    options (brokers, credentials) at each start. A changed job names a new file, and is compiled again.
    """
    tables = table_statements(settings)
    statements = [*tables, *(f"{view.name} AS {view.query}" for view in views(settings)),
                  *insert_statements(settings)]
    planned = {k: v for k, v in sorted(config.items()) if k not in START_ONLY_KEYS}
    body = json.dumps({"flink": flink_version, "statements": statements, "config": planned}, sort_keys=True)
    return directory / f"plan-{hashlib.sha256(body.encode()).hexdigest()}.json"


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _compile_plan(t_env: Any, settings: JobSettings, plan: Path) -> None:
    """``COMPILE PLAN`` of the three INSERTs as one statement set (a start's most costly step).

    Written under a temporary name and renamed (a start never reads half a plan); the plans of
    earlier versions of the job are deleted.
    """
    started = time.monotonic()
    for view in views(settings):  # one Table object per view: shared, not re-planned, by every INSERT
        t_env.create_temporary_view(view.name, t_env.sql_query(view.query))
    plan.parent.mkdir(parents=True, exist_ok=True)
    partial = plan.with_name(f".{plan.name}.{os.getpid()}.part")
    inserts = "".join(f"{insert};\n" for insert in insert_statements(settings))
    t_env.execute_sql(f"COMPILE PLAN {_sql_string(partial.resolve().as_uri())} "
                      f"FOR STATEMENT SET BEGIN\n{inserts}END")
    os.replace(partial, plan)
    for other in plan.parent.glob("plan-*.json"):
        if other != plan:
            other.unlink(missing_ok=True)
    log.info("planned the SQL in %.1f s; compiled plan kept as %s", time.monotonic() - started, plan)


def _sleep_unless_stopped(seconds: float) -> None:
    """Sleep, but wake within 0.1 s of SIGTERM (``down`` waits for the savepoint that follows)."""
    deadline = time.monotonic() + seconds
    while not _stop["requested"] and time.monotonic() < deadline:
        time.sleep(0.1)


def _start_over(settings: JobSettings, layout: StateLayout, restore: Path) -> int:
    """The saved state belongs to an earlier version of the job (its operators changed).

    Resuming is impossible, and resuming from the committed offsets with empty state would count
    the windows open at the stop only partly. So the state is set aside, the consumer group's
    offsets are deleted, and the next start re-reads the retained events from the beginning: the
    windows come out again with the same figures, and downstream results are upserted by window
    key, so nothing is counted twice.
    """
    log.warning("the saved state %s does not fit this version of the job (its operators changed)",
                restore)
    reset = reset_consumer_group(settings)
    kept = set_aside(layout)
    log.warning("state set aside to %s; %s; the job starts again and re-reads %s from the start",
                kept, "committed offsets deleted" if reset else "no committed offsets",
                settings.source_topic)
    write_status(layout.status_file, "RESTARTING")
    return START_OVER


def _finish(client: object, state: str) -> int:
    if state == "FINISHED":
        log.info("job finished")
        return 0
    try:
        client.get_job_execution_result().result()  # type: ignore[attr-defined]
    except Exception as exc:  # the job's failure cause, from the JVM
        log.error("job %s: %s", state.lower(), str(exc).splitlines()[0] if str(exc) else exc)
    else:
        log.error("job %s", state.lower())
    return 1


def _java_stop_with_savepoint(client: object, directory: str) -> Any:
    """``JobClient.stopWithSavepoint`` called on the Java object: PyFlink 2.2's wrapper still calls
    the two-argument overload that Flink 2.x removed (it now takes a ``SavepointFormatType``)."""
    from pyflink.java_gateway import get_gateway

    j_client = client._j_job_client  # type: ignore[attr-defined]
    formats = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType
    try:
        return j_client.stopWithSavepoint(False, directory, formats.CANONICAL)
    except Exception:  # Flink 1.x: the two-argument overload
        return j_client.stopWithSavepoint(False, directory)


def _stop_with_savepoint(client: object, layout: StateLayout, job_id: str, restored: str | None) -> int:
    write_status(layout.status_file, "STOPPING", job_id=job_id, restored_from=restored)
    try:
        future = _java_stop_with_savepoint(client, layout.savepoints.resolve().as_uri())
        deadline = time.monotonic() + SAVEPOINT_TIMEOUT_S
        while not future.isDone() and time.monotonic() < deadline:
            time.sleep(0.2)
        if future.isDone():
            log.info("stopped with savepoint %s", future.get())
        else:
            log.warning("no savepoint within %ss; the last checkpoint is the restore point",
                        SAVEPOINT_TIMEOUT_S)
            client.cancel()  # type: ignore[attr-defined]
    except Exception as exc:
        log.warning("stop with savepoint failed (%s); the last checkpoint is the restore point",
                    str(exc).splitlines()[0] if str(exc) else exc)
    write_status(layout.status_file, "STOPPED", job_id=job_id, restored_from=restored)
    return 0


if __name__ == "__main__":
    sys.exit(main())
