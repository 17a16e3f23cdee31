"""The local runtime on real processes: status, idempotent and concurrent up, crash restart,
readiness following the database, down leaving nothing behind, data kept across down/up.

Runs against the session platform (tests/conftest.py); the tests that stop things bring it
back before they end, so later tests find it healthy.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.local import probes
from ecomctl.local.platform import LocalPlatform, component_names
from ecomctl.settings import Settings
from tests.conftest import TEST_OFFSET, run_ecomctl, stack_environ

pytestmark = [pytest.mark.platform]


def http_status(url: str, timeout: float = 3.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def wait_for(predicate, timeout: float, interval: float = 0.2) -> float:  # type: ignore[no-untyped-def]
    """Seconds until ``predicate()`` held; fails the test after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def pids(platform: LocalPlatform) -> dict[str, int]:
    return {p.name: p.pid for p in platform.supervisor.processes()}


def test_status_json_lists_every_component_healthy_with_urls(platform_environ: dict[str, str]) -> None:
    result = run_ecomctl(["status", "--json"], platform_environ, timeout=60)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["stack"] == "local"
    names = [c["name"] for c in doc["components"]]
    assert names == component_names()
    assert {c["name"]: c["state"] for c in doc["components"]} == {n: "healthy" for n in names}
    urls = {c["name"]: c.get("url") for c in doc["components"]}
    for service in TOPOLOGY.services:
        assert urls[service.name] == f"http://127.0.0.1:{service.port + TEST_OFFSET}"
    assert doc["endpoints"]["gateway"] == urls[TOPOLOGY.gateway]


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_every_service_answers_health_ready_and_metrics(platform: LocalPlatform, service) -> None:  # type: ignore[no-untyped-def]
    base = platform.service_url(service.name)
    assert http_status(f"{base}/health") == 200
    assert http_status(f"{base}/ready") == 200
    with urllib.request.urlopen(f"{base}/metrics", timeout=3) as resp:
        body = resp.read().decode()
    assert "# TYPE" in body


def test_everything_binds_loopback_only(platform: LocalPlatform) -> None:
    import psutil

    ours = set(pids(platform).values())
    children = {c.pid for pid in ours if psutil.pid_exists(pid) for c in psutil.Process(pid).children(recursive=True)}
    listening = [
        c for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in ours | children
    ]
    assert listening, "no listening sockets found for our processes"
    loopback = {"127.0.0.1", "::ffff:127.0.0.1"}  # the second: IPv4 loopback on a JVM's dual-stack socket
    assert {(c.laddr.ip, c.laddr.port) for c in listening if c.laddr.ip not in loopback} == set()


def test_second_up_is_a_no_op(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    before = pids(platform)
    started = time.monotonic()
    result = run_ecomctl(["up"], platform_environ, timeout=300)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert pids(platform) == before, "a second up restarted something"
    assert "starting" not in result.stderr
    assert took < 30


def test_two_concurrent_ups_change_nothing(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    before = pids(platform)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: run_ecomctl(["up"], platform_environ, timeout=300), range(2)))
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-500:] for r in results]
    assert pids(platform) == before


@pytest.mark.parametrize("name", ["users", "kafka", "mariadb", "dynamodb", "awsapi", "api-gateway"])
def test_a_killed_component_is_back_and_healthy(platform: LocalPlatform, name: str) -> None:
    spec = next(s for s in platform.specs() if s.name == name)
    old = pids(platform)[name]
    os.kill(old, signal.SIGKILL)
    took = wait_for(
        lambda: (p := platform.process(name)) is not None and p.state == "RUNNING" and p.pid != old
        and spec.probe().ok,
        timeout=60,
    )
    assert took < 60
    # every service that depends on it is ready again too
    wait_for(lambda: all(http_status(f"{platform.service_url(s.name)}/ready") == 200
                         for s in TOPOLOGY.services), timeout=60)


def test_ready_follows_the_database(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    users_ready = f"{platform.service_url('users')}/ready"
    platform.stop_component("mariadb")
    try:
        wait_for(lambda: http_status(users_ready) == 503, timeout=20)
        with urllib.request.urlopen(f"{platform.service_url('users')}/health", timeout=3) as resp:
            assert resp.status == 200  # alive, just not ready
        status = run_ecomctl(["status", "--json"], platform_environ, timeout=60)
        assert status.returncode == 3  # not every component healthy
        states = {c["name"]: c["state"] for c in json.loads(status.stdout)["components"]}
        assert states["mariadb"] == "stopped"
        assert states["users"] in ("unhealthy", "starting")
    finally:
        platform.start_component("mariadb")
    wait_for(lambda: http_status(users_ready) == 200, timeout=30)


def test_port_conflict_is_reported_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    offset = TEST_OFFSET + 25  # a second stack whose ports overlap no other test stack's
    env = stack_environ(tmp_path, offset)
    taken = 13306 + offset  # MariaDB's port of that stack
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", taken))
        blocker.listen()
        result = run_ecomctl(["up"], env, timeout=600)
    assert result.returncode != 0
    first = result.stderr.strip().splitlines()
    assert any(f"port {taken} for mariadb is already in use" in line for line in first), result.stderr
    assert "ECOMCTL_PORT_OFFSET" in result.stderr
    assert "Traceback" not in result.stderr
    # nothing of that stack was started (the check comes before the supervisor), and --purge
    # removes its state
    refused = LocalPlatform(Settings.load(env))
    assert not refused.supervisor.running() and refused.strays() == []
    purge = run_ecomctl(["down", "--purge"], env, timeout=120)
    assert purge.returncode == 0, purge.stderr
    assert not (tmp_path / "local").exists()


def _seed_data(platform: LocalPlatform, marker: str) -> None:
    import asyncmy
    import boto3
    from aiokafka import AIOKafkaProducer

    async def mysql_and_kafka() -> None:
        conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                     password=platform.mysql_root_password, db="orders")
        async with conn.cursor() as cur:
            await cur.execute("CREATE TABLE IF NOT EXISTS lifecycle_marker (v VARCHAR(64) PRIMARY KEY)")
            await cur.execute("INSERT INTO lifecycle_marker VALUES (%s)", (marker,))
        await conn.commit()
        conn.close()
        producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
        await producer.start()
        await producer.send_and_wait("analytics-results", key=b"lifecycle", value=marker.encode())
        await producer.stop()

    asyncio.run(mysql_and_kafka())
    env = platform.aws_env
    kw = dict(region_name=env["AWS_REGION"], aws_access_key_id="local", aws_secret_access_key="local")
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], **kw).put_object(
        Bucket="ecomctl-local-data", Key=f"lifecycle/{marker}.txt", Body=marker.encode())
    boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], **kw).put_item(
        TableName="ecomctl-local-analytics", Item={"pk": {"S": "LIFECYCLE"}, "sk": {"S": marker}})


def _data_present(platform: LocalPlatform, marker: str) -> dict[str, bool]:
    import asyncmy
    import boto3
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def mysql_and_kafka() -> tuple[bool, bool]:
        conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user="root",
                                     password=platform.mysql_root_password, db="orders")
        async with conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM lifecycle_marker WHERE v = %s", (marker,))
            (count,) = await cur.fetchone()
            await cur.execute("DROP TABLE lifecycle_marker")
        conn.close()
        consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap, enable_auto_commit=False)
        await consumer.start()
        tp = TopicPartition("analytics-results", 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        found = False
        batches = await consumer.getmany(tp, timeout_ms=5000, max_records=100000)
        for records in batches.values():
            found = found or any(r.value == marker.encode() for r in records)
        await consumer.stop()
        return count == 1, found

    mysql_ok, kafka_ok = asyncio.run(mysql_and_kafka())
    env = platform.aws_env
    kw = dict(region_name=env["AWS_REGION"], aws_access_key_id="local", aws_secret_access_key="local")
    s3 = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], **kw)
    body = s3.get_object(Bucket="ecomctl-local-data", Key=f"lifecycle/{marker}.txt")["Body"].read()
    ddb = boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], **kw)
    item = ddb.get_item(TableName="ecomctl-local-analytics", Key={"pk": {"S": "LIFECYCLE"}, "sk": {"S": marker}})
    ddb.delete_item(TableName="ecomctl-local-analytics", Key={"pk": {"S": "LIFECYCLE"}, "sk": {"S": marker}})
    s3.delete_object(Bucket="ecomctl-local-data", Key=f"lifecycle/{marker}.txt")
    return {"mysql": mysql_ok, "kafka": kafka_ok, "s3": body == marker.encode(), "dynamodb": "Item" in item}


def test_down_leaves_nothing_and_up_keeps_the_data(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    marker = uuid.uuid4().hex
    _seed_data(platform, marker)
    time.sleep(6)  # one S3 snapshot interval (down also snapshots; this checks the periodic one too)
    ports = [port for spec in platform.specs() for port in spec.ports]

    result = run_ecomctl(["down"], platform_environ, timeout=120)
    assert result.returncode == 0, result.stderr
    assert platform.strays() == []
    assert not platform.supervisor.running()
    assert [p for p in ports if probes.port_in_use(p)] == []

    result = run_ecomctl(["up"], platform_environ, timeout=600)
    assert result.returncode == 0, result.stderr
    assert _data_present(platform, marker) == {"mysql": True, "kafka": True, "s3": True, "dynamodb": True}


def test_logs_credentials_and_no_secret_in_any_log(platform: LocalPlatform, platform_environ: dict[str, str]) -> None:
    creds = run_ecomctl(["credentials", "--json"], platform_environ, timeout=60)
    assert creds.returncode == 0, creds.stderr
    doc = json.loads(creds.stdout)
    assert doc["admin_email"] == platform.admin_email
    assert doc["admin_password"] == platform.admin_password
    assert oct(platform.layout.secrets_file.stat().st_mode & 0o777) == "0o600"

    logs = run_ecomctl(["logs", "kafka", "-n", "5"], platform_environ, timeout=60)
    assert logs.returncode == 0 and 0 < len(logs.stdout.strip().splitlines()) <= 5
    unknown = run_ecomctl(["logs", "nope"], platform_environ, timeout=60)
    assert unknown.returncode != 0 and "no component named 'nope'" in unknown.stderr

    secret_values = platform.context.secrets.values()
    for log in platform.layout.logs.glob("*.log"):
        text = log.read_text(errors="replace")
        leaked = [v for v in secret_values if v in text]
        assert not leaked, f"a secret appears in {log.name}"
