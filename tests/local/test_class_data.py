"""Class-data sharing archives (ecomctl.local.class_data) on real JVMs.

The first tests run Kafka's own jars (a short ``StorageTool random-uuid`` run) against an archive
in a private directory: recorded, built once, used by the next start, a garbage archive ignored.
The last one runs against the session platform: DynamoDB Local comes up healthy with a garbage
archive in place, and maps the real archive once it is back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ecomctl.local import class_data, dynamodb, kafka, maven
from ecomctl.local.class_data import ClassDataArchive
from ecomctl.local.layout import Layout
from ecomctl.local.platform import LocalPlatform
from ecomctl.local.supervisor import MARKER, kill_strays, marker, stray_processes
from ecomctl.settings import Settings

TOOL = "kafka.tools.StorageTool"


@pytest.fixture(name="kafka_jars", scope="module")
def fx_kafka_jars() -> tuple[Path, tuple[Path, ...]]:
    settings = Settings.load()
    java_home = settings.java_home()
    lib = maven.resolve("kafka", kafka.ARTIFACTS, settings.cache_dir, java_home)
    return java_home, class_data.jars(lib)


def private_archive(tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]) -> ClassDataArchive:
    java_home, jars = kafka_jars
    return class_data.archive_for("kafka-tool", java_home, jars, tmp_path / "cache", tmp_path / "run")


def run_tool(item: ClassDataArchive, *extra: str) -> subprocess.CompletedProcess[str]:
    """A real start of Kafka's classes with the archive's flags (what the broker's command carries)."""
    return subprocess.run(
        [str(item.java_home / "bin" / "java"), *item.jvm_flags(), *extra, "-cp", item.classpath_arg,
         TOOL, "random-uuid"],
        capture_output=True, text=True, timeout=120, check=False,
    )


def tool_class_source(item: ClassDataArchive) -> str:
    """Where the JVM loaded the tool's main class from (``shared objects file`` = the archive)."""
    result = run_tool(item, "-Xlog:class+load=info")
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if f" {TOOL} source:" in x)
    return line.split(" source: ", 1)[1]


def test_fingerprint_follows_the_java_runtime_and_the_jar_set(
    tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]
) -> None:
    java_home, jars = kafka_jars
    lib = tmp_path / "lib"
    lib.mkdir()
    for jar in jars[:3]:
        shutil.copy2(jar, lib / jar.name)
    base = class_data.fingerprint(java_home, class_data.jars(lib))
    assert class_data.fingerprint(java_home, class_data.jars(lib)) == base  # stable
    shutil.copy2(jars[3], lib / jars[3].name)
    added = class_data.fingerprint(java_home, class_data.jars(lib))
    assert added != base
    (lib / jars[3].name).unlink()
    assert class_data.fingerprint(java_home, class_data.jars(lib)) == base
    first = class_data.jars(lib)[0]
    os.utime(first, ns=(first.stat().st_atime_ns, first.stat().st_mtime_ns + 1_000_000_000))
    assert class_data.fingerprint(java_home, class_data.jars(lib)) != base  # a replaced jar
    assert class_data.fingerprint(tmp_path, class_data.jars(lib)) != class_data.fingerprint(
        java_home, class_data.jars(lib))  # another Java runtime


def test_archive_is_built_once_and_used_by_the_next_start(
    tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]
) -> None:
    item = private_archive(tmp_path, kafka_jars)
    assert not item.archive.exists()
    first = run_tool(item)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip()  # a cluster id
    assert f"{TOOL.replace('.', '/')}\n" in item.class_list.read_text()  # recorded
    assert tool_class_source(item).startswith("file:")  # no archive yet: from the jar

    assert class_data.build(item)
    assert class_data.usable(item.archive)
    assert class_data.maps(item.java_home, item.archive, item.classpath)
    built = item.archive.stat().st_mtime_ns
    assert class_data.build(item)  # already there: not rebuilt
    assert class_data.build_missing([item]) == []
    assert item.archive.stat().st_mtime_ns == built
    assert not list(item.archive.parent.glob(".kafka-tool-*"))  # no temp files left

    assert tool_class_source(item) == "shared objects file"  # the next start maps it
    again = run_tool(item)
    assert again.returncode == 0, again.stderr
    assert item.class_list.read_text().count("\n") > 1000  # still recorded (same command)


def test_a_garbage_archive_is_ignored_and_replaced(
    tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]
) -> None:
    item = private_archive(tmp_path, kafka_jars)
    assert run_tool(item).returncode == 0  # records the class list
    item.archive.write_bytes(os.urandom(1 << 16))
    assert not class_data.usable(item.archive)
    result = run_tool(item)
    assert result.returncode == 0, result.stderr  # -Xshare:auto: starts as without an archive
    assert tool_class_source(item).startswith("file:")
    assert class_data.build(item)  # not usable, so rebuilt
    assert tool_class_source(item) == "shared objects file"


def test_a_class_path_the_archive_was_not_made_for_starts_without_it(
    tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]
) -> None:
    item = private_archive(tmp_path, kafka_jars)
    assert run_tool(item).returncode == 0
    assert class_data.build(item)
    reordered = ClassDataArchive(item.component, item.java_home, tuple(reversed(item.classpath)),
                                 item.archive, item.class_list)
    assert not class_data.maps(item.java_home, item.archive, reordered.classpath)
    assert tool_class_source(reordered).startswith("file:")


def jvm_maps(pid: int, archive: Path) -> bool:
    return str(archive) in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.platform
def test_dynamodb_comes_up_healthy_with_a_garbage_archive(platform: LocalPlatform) -> None:
    item = dynamodb.class_data_archive(platform.context)
    assert class_data.build(item), item.failed_marker.read_text() if item.failed_marker.exists() else ""
    process = platform.process(dynamodb.NAME)
    assert process is not None and process.pid
    kept = item.archive.with_name(f".{item.archive.name}.kept-{os.getpid()}")
    platform.stop_component(dynamodb.NAME)
    os.replace(item.archive, kept)  # other stacks share the cache: swap atomically, restore below
    try:
        garbage = item.archive.with_name(f".{item.archive.name}.garbage-{os.getpid()}")
        garbage.write_bytes(os.urandom(1 << 20))
        os.replace(garbage, item.archive)
        started = time.monotonic()
        platform.start_component(dynamodb.NAME)
        process = platform.process(dynamodb.NAME)
        assert process is not None and process.state == "RUNNING"
        assert not jvm_maps(process.pid, item.archive)
        assert time.monotonic() - started < 60
    finally:
        platform.stop_component(dynamodb.NAME)
        os.replace(kept, item.archive)
        platform.start_component(dynamodb.NAME)
    process = platform.process(dynamodb.NAME)
    assert process is not None
    assert jvm_maps(process.pid, item.archive)  # the real archive is back in use
    status = {c.name: c.state for c in platform.status().components}
    assert status[dynamodb.NAME] == "healthy"


def test_down_stops_a_build_still_running_and_it_leaves_nothing(
    tmp_path: Path, kafka_jars: tuple[Path, tuple[Path, ...]]
) -> None:
    """``up`` leaves the build running with the stack's marker: ``down``'s sweep stops it cleanly."""
    item = private_archive(tmp_path, kafka_jars)
    assert run_tool(item).returncode == 0  # records the class list
    layout = Layout(tmp_path / "local")
    started = class_data.build_missing([item], env={MARKER: marker(layout, "class-data-build")})
    assert started == [item]
    deadline = time.monotonic() + 30
    while not list(item.archive.parent.glob(".kafka-tool-*")):  # the dump is under way
        assert time.monotonic() < deadline, "the build did not start"
        time.sleep(0.05)
    assert stray_processes(layout)  # found as a process of the stack
    assert kill_strays(layout) >= 1
    deadline = time.monotonic() + 10
    while list(item.archive.parent.glob(".kafka-tool-*")):
        assert time.monotonic() < deadline, "the build left its temp directory"
        time.sleep(0.05)
    assert not stray_processes(layout)
    assert not item.archive.exists() and not item.failed_marker.exists()
    assert class_data.build(item)  # the lock was released: the next build runs
