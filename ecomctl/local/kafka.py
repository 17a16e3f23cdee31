"""Apache Kafka, single-node KRaft (broker + controller), from pinned Maven Central jars."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from ecomctl.errors import StartupError
from ecomctl.local import aio, maven, probes
from ecomctl.local.context import HOST, LocalContext
from ecomctl.local.spec import ComponentSpec

NAME = "kafka"
KAFKA_VERSION = "4.1.1"
ARTIFACTS = (
    maven.Artifact("org.apache.kafka", "kafka_2.13", KAFKA_VERSION),
    maven.Artifact("org.apache.logging.log4j", "log4j-slf4j-impl", "2.24.3"),
)
HEAP = "-Xmx768m"
# A single-node broker at development rates never needs the optimising C2 compiler, and C2's
# compilations are half of the broker's start-up CPU (measured: 5.4-6.2 CPU-s to an open port
# with C2, 3.1 with C1 only). On a 2-core machine starting a dozen processes at once, that matters.
JIT = "-XX:TieredStopAtLevel=1"

_LOG4J = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""



def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka makes one (``Uuid.randomUuid``): 16 random bytes, base64url. Like
    Kafka, never one that starts with "-", which the storage tool would read as an option."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id

def _config_dir(ctx: LocalContext) -> Path:
    return ctx.layout.run / "kafka"


def _log_dir(ctx: LocalContext) -> Path:
    return ctx.layout.component_data(NAME)


def server_properties(ctx: LocalContext) -> str:
    port, controller = ctx.port(NAME), ctx.port("kafka-controller")
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{HOST}:{controller}",
        f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={_log_dir(ctx)}",
        "num.partitions=1",
        "default.replication.factor=1",
        "min.insync.replicas=1",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "transaction.state.log.num.partitions=3",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=false",
        "log.retention.hours=168",
        "controlled.shutdown.enable=true",
        # A single-node broker of a local stack on a machine of a few cores: one network thread and
        # two request handlers (defaults 3 and 8) serve every client, so requests are not handed
        # across a dozen threads that each wake for a few of them (measured with
        # bench/notifications_path.py, 150 events/s: the broker's CPU 0.53 -> 0.42 ms per event)
        "num.network.threads=1",
        "num.io.threads=2",
        "group.coordinator.threads=1",
        "background.threads=2",
        "",
    ])


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    java_home = ctx.settings.java_home()
    lib = maven.resolve("kafka", ARTIFACTS, ctx.settings.cache_dir, java_home, progress)
    conf = _config_dir(ctx)
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "server.properties").write_text(server_properties(ctx))
    (conf / "log4j2.properties").write_text(_LOG4J)
    logs = _log_dir(ctx)
    if (logs / "meta.properties").exists():
        return
    progress("formatting Kafka storage (KRaft)")
    logs.mkdir(parents=True, exist_ok=True)
    cluster_id = new_cluster_id()
    proc = subprocess.run(
        [str(java_home / "bin" / "java"), "-cp", f"{lib}/*",
         f"-Dlog4j2.configurationFile={conf / 'log4j2.properties'}",
         "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(conf / "server.properties")],
        capture_output=True, text=True, timeout=120,
    )
    if proc.returncode != 0:
        raise StartupError("formatting Kafka storage failed", details=(proc.stdout + proc.stderr)[-2000:])


def spec(ctx: LocalContext) -> ComponentSpec:
    java_home = ctx.settings.java_home()
    lib = maven.resolve("kafka", ARTIFACTS, ctx.settings.cache_dir, java_home)
    conf = _config_dir(ctx)
    port = ctx.port(NAME)
    return ComponentSpec(
        name=NAME,
        kind="store",
        requires=(),
        command=(
            str(java_home / "bin" / "java"), "-Xms256m", HEAP, JIT, "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true", "-Djava.net.preferIPv4Stack=true",
            f"-Dlog4j2.configurationFile={conf / 'log4j2.properties'}",
            "-cp", f"{lib}/*", "kafka.Kafka", str(conf / "server.properties"),
        ),
        env={"JAVA_HOME": str(java_home)},
        cwd=_log_dir(ctx),
        probe=lambda: probes.tcp(HOST, port),
        ports=(port, ctx.port("kafka-controller")),
        url=f"kafka://{HOST}:{port}",
        start_seconds=2,
        stop_wait_seconds=20,
        provision=lambda: provision(ctx),
        description=f"Apache Kafka {KAFKA_VERSION} (KRaft, single node)",
    )


def provision(ctx: LocalContext, timeout_s: float = 60.0) -> None:
    """Every topology topic exists with at least its partitions (retried while the broker starts)."""
    aio.run_coroutine(_provision(ctx, timeout_s))


async def _provision(ctx: LocalContext, timeout_s: float) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    last_error: Exception | None = None
    while loop.time() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=ctx.kafka_bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            existing = await admin.describe_topics([t.name for t in ctx.topology.topics])
            partitions = {
                d["topic"]: len(d.get("partitions") or []) for d in existing if d.get("error_code", 0) == 0
            }
            missing = [
                NewTopic(t.name, num_partitions=t.partitions, replication_factor=1,
                         topic_configs={"retention.ms": str(t.retention_hours * 3600 * 1000)})
                for t in ctx.topology.topics if t.name not in partitions
            ]
            if missing:
                await admin.create_topics(missing)
            grow = {
                t.name: NewPartitions(total_count=t.partitions)
                for t in ctx.topology.topics if 0 < partitions.get(t.name, 0) < t.partitions
            }
            if grow:
                await admin.create_partitions(grow)
            return
        except Exception as exc:  # broker still starting: retry until the deadline
            last_error = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise StartupError(f"could not create the Kafka topics: {last_error}")
