"""The stream job's runtime: its own virtualenv, the Kafka connector jar, and the submit command.

Imported from the MAIN virtualenv by the local runtime (``ecomctl.local``) and by the tests; stdlib
only, never imports pyflink. apache-flink cannot share a virtualenv with pulumi (see
docs/stream.md), so the job runs in ``<repo>/.venv-flink``.

* ``ensure_environment(cache_dir, progress)`` creates ``.venv-flink`` from the exact pins in
  ``stream/requirements.txt`` and downloads the connector jar (checked against Maven Central's
  ``.sha1``) into ``cache_dir/jars/``. Idempotent; a stamp keyed on the pins, the connector and the
  interpreter makes a repeat call a few stat() calls.
* ``job_command(runtime, state_dir)`` is what the supervisor runs (env from
  ``blueprint.wiring.stream_job_env``): ``flink run --target local --python stream/job.py --jarfile
  <connector>``, the same ``--python`` submission as on Dataproc, in the foreground.
* ``is_healthy(state_dir)``: the job is submitted and RUNNING (its status file, see
  ``stream.status``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stream.checkpoints import StateLayout
from stream.status import is_running

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / ".venv-flink"
REQUIREMENTS = Path(__file__).with_name("requirements.txt")
JOB_SCRIPT = Path(__file__).with_name("job.py")
LAUNCH_SCRIPT = Path(__file__).with_name("launch.py")
STAMP_NAME = ".ecomctl-flink-stamp"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
# The connector line must target the Flink minor pinned in requirements.txt (5.0.0-2.2 -> Flink 2.2).
CONNECTOR = ("org.apache.flink", "flink-sql-connector-kafka", "5.0.0-2.2")
DEFAULT_JAVA_HOME = Path("/usr/lib/jvm/java-17-openjdk-amd64")
# The client JVM hosts the whole local cluster: cap its heap (the JVM default is 1/4 of RAM), use the
# throughput collector (2 cores, no latency-sensitive pauses at this scale) and only the C1 JIT
# compiler. On this machine C1-only halves the job's start (plan loading, local cluster, Janino and
# the operators' first records: C2 compiled and recompiled that code on the second core while `up`
# needed it) for about 11% less steady throughput (28.6k against 32.0k events/s, docs/benchmarks.md).
CLIENT_JVM_ARGS = "-Xms256m -Xmx1536m -XX:+UseParallelGC -XX:TieredStopAtLevel=1"
# Everything the local MiniCluster binds stays on the loopback interface.
LOCAL_FLINK_OPTIONS = (
    "jobmanager.bind-host=127.0.0.1",
    "jobmanager.rpc.address=127.0.0.1",
    "taskmanager.bind-host=127.0.0.1",
    "taskmanager.host=127.0.0.1",
    "rest.bind-address=127.0.0.1",
    "rest.address=127.0.0.1",
)


class FlinkSetupError(RuntimeError):
    """The Flink environment could not be created (the message says which step failed)."""


@dataclass(frozen=True)
class FlinkRuntime:
    python: Path  # the Flink virtualenv's interpreter
    jars: tuple[Path, ...]  # connector jars added to the job
    flink_home: Path  # the Flink distribution inside the apache-flink wheel (bin/flink, lib/)
    java_home: Path | None = None  # JAVA_HOME for bin/flink (Java 17); None = inherit


def _connector_jar_name() -> str:
    _group, artifact, version = CONNECTOR
    return f"{artifact}-{version}.jar"


def _connector_url() -> str:
    group, artifact, version = CONNECTOR
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{_connector_jar_name()}"


def _stamp_key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(":".join(CONNECTOR).encode())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()


def _flink_home(venv: Path) -> Path | None:
    found = sorted(venv.glob("lib/python3*/site-packages/pyflink/bin/flink"))
    return found[0].parent.parent if found else None


def _java_home() -> Path | None:
    env = os.environ.get("JAVA_HOME")
    if env and (Path(env) / "bin" / "java").exists():
        return Path(env)
    return DEFAULT_JAVA_HOME if (DEFAULT_JAVA_HOME / "bin" / "java").exists() else None


def _runtime(cache_dir: Path, venv: Path) -> FlinkRuntime | None:
    flink_home = _flink_home(venv)
    jar = cache_dir / "jars" / _connector_jar_name()
    python = venv / "bin" / "python"
    if flink_home is None or not jar.is_file() or not python.exists():
        return None
    return FlinkRuntime(python=python, jars=(jar,), flink_home=flink_home, java_home=_java_home())


def ensure_environment(cache_dir: Path, progress: Callable[[str], None]) -> FlinkRuntime:
    """Create ``.venv-flink`` and fetch the connector jar unless already done; return the runtime."""
    stamp = VENV / STAMP_NAME
    key = _stamp_key()
    runtime = _runtime(cache_dir, VENV)
    if runtime is not None and stamp.is_file() and stamp.read_text().strip() == key:
        return runtime
    _install_venv(progress)
    _download_connector(cache_dir / "jars", progress)
    runtime = _runtime(cache_dir, VENV)
    if runtime is None:
        raise FlinkSetupError(f"{VENV} has no pyflink/bin/flink after installing {REQUIREMENTS.name}")
    stamp.write_text(key + "\n")
    return runtime


def _install_venv(progress: Callable[[str], None]) -> None:
    python = VENV / "bin" / "python"
    if not python.exists():
        progress("creating the Flink virtualenv .venv-flink")
        _run([sys.executable, "-m", "venv", str(VENV)], "create .venv-flink")
    progress("installing apache-flink and its pinned dependencies into .venv-flink (about a minute)")
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--no-deps", "-r", str(REQUIREMENTS)], "pip install -r stream/requirements.txt")


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise FlinkSetupError(f"{what} failed: {' / '.join(tail)}")


def _download_connector(jar_dir: Path, progress: Callable[[str], None]) -> Path:
    target = jar_dir / _connector_jar_name()
    url = _connector_url()
    try:
        with urllib.request.urlopen(url + ".sha1", timeout=30) as response:
            expected = response.read().decode().split()[0].strip().lower()
    except OSError as exc:
        if target.is_file():  # offline but already fetched (and verified then)
            return target
        raise FlinkSetupError(f"cannot fetch {url}.sha1: {exc}") from None
    if target.is_file() and _sha1(target) == expected:
        return target
    progress(f"downloading {_connector_jar_name()} from Maven Central")
    jar_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=jar_dir, suffix=".part", delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                shutil.copyfileobj(response, tmp)
        except OSError as exc:
            tmp_path.unlink(missing_ok=True)
            raise FlinkSetupError(f"cannot download {url}: {exc}") from None
    actual = _sha1(tmp_path)
    if actual != expected:
        tmp_path.unlink(missing_ok=True)
        raise FlinkSetupError(f"{_connector_jar_name()}: sha1 {actual} != Maven Central's {expected}")
    tmp_path.replace(target)
    return target


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # Maven Central publishes sha1 checksums
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_command(runtime: FlinkRuntime, state_dir: Path) -> list[str]:
    """The foreground command the supervisor runs; it needs ``stream_job_env`` in its environment.

    ``stream/launch.py`` runs ``flink run`` in its own process group and turns SIGTERM into a
    stop-with-savepoint (see there). ``env`` sets what ``bin/flink`` itself reads (JAVA_HOME,
    where its client log goes) and puts the Flink venv first on PATH; the job's own settings come
    from the supervisor's environment.
    """
    layout = StateLayout.under(state_dir)
    prefix = ["env", f"FLINK_LOG_DIR={layout.root / 'log'}", f"JVM_ARGS={CLIENT_JVM_ARGS}",
              f"PATH={runtime.python.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"]
    if runtime.java_home is not None:
        prefix.append(f"JAVA_HOME={runtime.java_home}")
    wrapper = [str(runtime.python), str(LAUNCH_SCRIPT), "--state-dir", str(state_dir), "--"]
    command = [*wrapper, *prefix, str(runtime.flink_home / "bin" / "flink"), "run", "--target", "local",
               "--python", str(JOB_SCRIPT),
               "--pyClientExecutable", str(runtime.python), "--pyExecutable", str(runtime.python)]
    jars = list(runtime.jars)
    if jars:
        command += ["--jarfile", str(jars[0])]
        for extra in jars[1:]:
            command += ["--classpath", extra.resolve().as_uri()]
    for option in LOCAL_FLINK_OPTIONS:
        command.append(f"-D{option}")
    command += ["--state-dir", str(state_dir)]
    return command


def is_healthy(state_dir: Path) -> bool:
    """The job is submitted and RUNNING (its status file is fresh and its process alive)."""
    return is_running(StateLayout.under(state_dir).status_file)
