"""The Flink environment: pins, connector/Flink match, the fast path, and the submit command."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from stream import setup
from stream.setup import FlinkRuntime, job_command


def pins() -> dict[str, str]:
    found: dict[str, str] = {}
    for line in setup.REQUIREMENTS.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement {line!r}"
            found[name.lower()] = version
    return found


def test_every_requirement_is_pinned_and_flink_matches_the_connector() -> None:
    versions = pins()
    flink_minor = ".".join(versions["apache-flink"].split(".")[:2])
    connector_version = setup.CONNECTOR[2]
    assert connector_version.endswith(f"-{flink_minor}"), (connector_version, flink_minor)
    assert versions["apache-flink-libraries"] == versions["apache-flink"]
    assert "pulumi" not in versions  # the reason for a separate virtualenv


def test_job_command_is_a_foreground_flink_run(tmp_path: Path) -> None:
    runtime = FlinkRuntime(python=Path("/v/bin/python"), jars=(Path("/c/a.jar"), Path("/c/b.jar")),
                           flink_home=Path("/v/pyflink"), java_home=Path("/jdk17"))
    command = job_command(runtime, tmp_path)
    assert command[:5] == ["/v/bin/python", str(setup.LAUNCH_SCRIPT), "--state-dir", str(tmp_path), "--"]
    assert command[5] == "env"
    assert "JAVA_HOME=/jdk17" in command
    assert f"JVM_ARGS={setup.CLIENT_JVM_ARGS}" in command
    assert "-XX:TieredStopAtLevel=1" in setup.CLIENT_JVM_ARGS.split()  # C1 only (see setup.py)
    flink = command.index("/v/pyflink/bin/flink")
    assert command[flink + 1:flink + 4] == ["run", "--target", "local"]
    assert "--detached" not in command and "-d" not in command
    assert command[command.index("--python") + 1] == str(setup.JOB_SCRIPT)
    assert command[command.index("--pyClientExecutable") + 1] == "/v/bin/python"
    assert command[command.index("--jarfile") + 1] == "/c/a.jar"
    assert command[command.index("--classpath") + 1] == "file:///c/b.jar"
    assert command[-2:] == ["--state-dir", str(tmp_path)]
    assert all(o.split("=", 1)[1] == "127.0.0.1" for o in command if re.match(r"-D.*(host|address)=", o))


@pytest.mark.stream
def test_ensure_environment_is_idempotent_and_fast(flink_runtime: FlinkRuntime, flink_cache: Path) -> None:
    assert flink_runtime.python.exists()
    assert (flink_runtime.flink_home / "bin" / "flink").exists()
    assert [j.name for j in flink_runtime.jars] == ["flink-sql-connector-kafka-5.0.0-2.2.jar"]
    started = time.perf_counter()
    again = setup.ensure_environment(flink_cache, lambda m: pytest.fail(f"unexpected work: {m}"))
    assert time.perf_counter() - started < 0.1
    assert again == flink_runtime
