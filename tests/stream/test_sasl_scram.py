"""The job's Kafka options against a real SCRAM-SHA-512 listener: the password is in no option, no
compiled plan and no log, and the Kafka client still logs in with it.

A private single-node KRaft Kafka (the local stack's cached jars) with a SASL_PLAINTEXT listener
and a SCRAM user made at format time (``kafka-storage --add-scram``), plus a PLAINTEXT listener the
test itself uses to create topics and read the results. Flink's Kafka tables, with the options
``stream.sql.kafka_options`` renders, copy a topic to another through the SCRAM listener
(``sasl_probe.py``, run by the Flink virtualenv as the job is); the password file is the one
``stream/launch.py`` writes. The job's own admin client logs in with the same options, and a wrong
password in the file is refused by the broker (so the login really is SCRAM's).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecomctl.local.kafka import new_cluster_id
from stream.kafka_secret import child_env, write_password_file
from stream.setup import FlinkRuntime, _java_home
from tests.stream.harness import REPO, create_topics, produce_raw

USER = "flink-analytics"
PASSWORD = f"Scr4m-{uuid.uuid4().hex}-pw"  # unique: any occurrence anywhere is this test's leak
PORTS = range(24990, 25000)  # below the ephemeral range, outside the test stack's ports
PROBE = Path(__file__).with_name("sasl_probe.py")


@dataclass(frozen=True)
class ScramKafka:
    plain: str  # bootstrap of the PLAINTEXT listener (the test's own calls)
    sasl: str  # bootstrap of the SASL_PLAINTEXT listener (SCRAM-SHA-512 only)
    log: Path


def _free_ports(count: int) -> list[int]:
    free: list[int] = []
    for port in PORTS:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        free.append(port)
        if len(free) == count:
            return free
    raise AssertionError(f"fewer than {count} free ports in {PORTS.start}-{PORTS.stop - 1}")


def _kafka_lib(cache: Path, java_home: Path) -> Path:
    from ecomctl.local import kafka, maven

    return maven.resolve("kafka", kafka.ARTIFACTS, cache, java_home)


@pytest.fixture(name="scram_kafka", scope="module")
def fx_scram_kafka(flink_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScramKafka]:
    java_home = _java_home()
    assert java_home is not None, "Java 17 is needed (JAVA_HOME)"
    java = str(java_home / "bin" / "java")
    lib = _kafka_lib(flink_cache, java_home)
    root = tmp_path_factory.mktemp("scram-kafka")
    plain, sasl, controller = _free_ports(3)
    conf = root / "server.properties"
    conf.write_text("\n".join([
        "process.roles=broker,controller", "node.id=1",
        f"controller.quorum.voters=1@127.0.0.1:{controller}",
        f"listeners=PLAINTEXT://127.0.0.1:{plain},SASL_PLAINTEXT://127.0.0.1:{sasl},"
        f"CONTROLLER://127.0.0.1:{controller}",
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{plain},SASL_PLAINTEXT://127.0.0.1:{sasl}",
        "controller.listener.names=CONTROLLER", "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms=SCRAM-SHA-512",
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        f"log.dirs={root / 'data'}", "num.partitions=1", "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=1", "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1", "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1", "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false", "",
    ]))
    cluster_id = new_cluster_id()
    jvm = [java, "-Xmx384m", "-XX:TieredStopAtLevel=1", "-cp", f"{lib}/*"]
    formatted = subprocess.run(
        [*jvm, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf),
         "--add-scram", f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]"],
        capture_output=True, text=True, timeout=120, check=False)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    log = root / "kafka.log"
    with log.open("wb") as out:
        broker = subprocess.Popen([*jvm, "kafka.Kafka", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, "JAVA_HOME": str(java_home)}, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                create_topics(f"127.0.0.1:{plain}", ("t-ready", 1))
                break
            except Exception:
                if broker.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"SCRAM Kafka did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield ScramKafka(f"127.0.0.1:{plain}", f"127.0.0.1:{sasl}", log)
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            broker.kill()
            broker.wait(timeout=30)


def _probe(runtime: FlinkRuntime, env: dict[str, str], state: Path, wrong: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "FLINK_"))}
    if runtime.java_home is not None:
        base["JAVA_HOME"] = str(runtime.java_home)
    base.update(env, PYTHONPATH=str(REPO), FLINK_LOG_DIR=str(state / "log"),
                PATH=f"{runtime.python.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
                _python_worker_execution_mode="process")
    jars = ";".join(j.resolve().as_uri() for j in runtime.jars)
    command = [str(runtime.python), str(PROBE), str(state), str(wrong)]
    return subprocess.run(command, env={**base, "ECOMCTL_PROBE_JARS": jars}, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)


def test_flink_reads_and_writes_through_scram_and_the_password_is_nowhere(
        scram_kafka: ScramKafka, flink_runtime: FlinkRuntime, tmp_path: Path) -> None:
    source, sink = f"t-src-{uuid.uuid4().hex[:8]}", f"t-dst-{uuid.uuid4().hex[:8]}"
    create_topics(scram_kafka.plain, (source, 1), (sink, 1))
    produce_raw(scram_kafka.plain, source, [(b"k", json.dumps({"body": f"event-{i}"}).encode()) for i in range(5)])
    supervisor_env = {
        "KAFKA_BOOTSTRAP_SERVERS": scram_kafka.sasl, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": USER, "KAFKA_SASL_PASSWORD": PASSWORD,
        "SOURCE_TOPIC": source, "SINK_TOPIC": sink, "KAFKA_CONSUMER_GROUP": f"{source}-flink",
    }
    state = tmp_path / "state"
    env, secret = child_env(supervisor_env, state)  # what stream/launch.py hands the job
    assert secret is not None and "KAFKA_SASL_PASSWORD" not in env
    wrong = write_password_file(tmp_path / "wrong" / "kafka-client.properties", f"wrong-{uuid.uuid4().hex}")

    done = _probe(flink_runtime, env, state, wrong)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    right_call, wrong_call = done.stdout.strip().splitlines()[-2:]
    assert right_call == "admin call done"  # the job's own admin client, same options
    assert "SaslAuthenticationException" in wrong_call and "Authentication failed" in wrong_call
    got = sorted(json.loads(value)["body"] for value in _values(scram_kafka.plain, sink))
    assert got == [f"EVENT-{i}" for i in range(5)]

    plan = (state / "plan.json").read_text()
    assert "`src`" in plan and "`dst`" in plan  # the tables the plan reads the options of
    job_graph = (state / "jobgraph.bin").read_bytes()
    # the job graph carries the Kafka clients' properties (serialized), the file reference included...
    assert f"{secret}:password".encode() in job_graph and b"FileConfigProvider" in job_graph
    logs = sorted((state / "log").glob("*"))
    log_text = "".join(p.read_text(errors="replace") for p in logs)
    assert "sasl.mechanism = SCRAM-SHA-512" in log_text  # ...the client logs its configuration...
    for text in (plan, done.stdout, done.stderr, log_text):
        assert PASSWORD not in text  # ...and never the password
    assert PASSWORD.encode() not in job_graph


def _values(bootstrap: str, topic: str) -> list[bytes]:
    """Every value on the topic so far (the probe's sink writes no key)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer

    async def run() -> list[bytes]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        out: list[bytes] = []
        try:
            while batch := await consumer.getmany(timeout_ms=1000):
                out += [r.value for records in batch.values() for r in records if r.value is not None]
            return out
        finally:
            await consumer.stop()

    return asyncio.run(run())
