"""The session platform: the whole local stack on real parts, isolated from a developer's own.

It runs in its own state directory and on ports shifted by ``ECOMCTL_TEST_PORT_OFFSET``
(default 12000: every port of the test stack then lies between 20000 and 31100, clear of a
developer's own stack at 8000-19100 and below the kernel's ephemeral range, from which outgoing
connections take their local ports), so a developer's ``ecomctl up`` stack is never touched and
``bin/test`` passes while it runs and carries traffic. Every port is checked free before the
stack starts; a taken one ends the session at once with a message naming the port and its holder. Jars and the Flink
virtualenv are shared caches. The stack starts fresh (an earlier session's is purged);
``ECOMCTL_TEST_KEEP=1`` instead reuses a running one and leaves it running after the session
(``up`` is then a no-op): handy while iterating.
Two test sessions side by side need different ``ECOMCTL_TEST_PORT_OFFSET`` values (the state
directory follows the offset): multiples of 25 between 12000 and 12950 never overlap.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import pytest

from ecomctl.local.platform import LocalPlatform
from ecomctl.settings import Settings

TEST_OFFSET = int(os.environ.get("ECOMCTL_TEST_PORT_OFFSET", "12000"))
TEST_STATE = Path(os.environ.get("ECOMCTL_TEST_STATE_DIR", f"/tmp/ecomctl-test-{TEST_OFFSET}"))


def stack_environ(state_dir: Path, offset: int, **extra: str) -> dict[str, str]:
    """The environment of an ``ecomctl`` command aimed at the stack in ``state_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMCTL_PORT_")}
    env.update(ECOMCTL_STATE_DIR=str(state_dir), ECOMCTL_PORT_OFFSET=str(offset), **extra)
    return env


def make_platform(state_dir: Path, offset: int, **extra: str) -> LocalPlatform:
    return LocalPlatform(Settings.load(stack_environ(state_dir, offset, **extra)))


def run_ecomctl(
    args: list[str], env: Mapping[str, str], timeout: float = 600, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (exit code, stdout and stderr as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "ecomctl", *args], env=dict(env), capture_output=True, text=True,
        timeout=timeout, input=input_text,
    )


def ephemeral_range() -> range:
    """The kernel's range of local ports for outgoing connections (Linux; IANA's elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(49152, 65536)


def port_problem(ports: Iterable[tuple[str, int]]) -> str | None:
    """Why the test stack cannot use ``ports`` (one line), or None when every one is usable."""
    ephemeral = ephemeral_range()
    for name, port in ports:
        if port in ephemeral:
            return (f"test stack port {port} ({name}) lies in the kernel's ephemeral range "
                    f"{ephemeral.start}-{ephemeral.stop - 1}, where any outgoing connection may hold it; "
                    "choose ECOMCTL_TEST_PORT_OFFSET so every port stays below it (default 12000)")
        with socket.socket() as probe:
            # as the servers bind: connections in TIME_WAIT after a stack went down do not count
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return (f"test stack port {port} ({name}) is already in use{_holder(port)}; stop that "
                        "process or run the tests on other ports: ECOMCTL_TEST_PORT_OFFSET=<n>, a multiple "
                        "of 25 from 12000 to 12950")
    return None


def _holder(port: int) -> str:
    import psutil

    try:
        for conn in psutil.net_connections(kind="inet"):
            if conn.laddr and conn.laddr.port == port and conn.pid:
                return f" by {psutil.Process(conn.pid).name()} (pid {conn.pid})"
    except (psutil.Error, OSError):
        pass
    return ""


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    stack = make_platform(TEST_STATE, TEST_OFFSET)
    keep = os.environ.get("ECOMCTL_TEST_KEEP") == "1"
    if not keep:
        stack.down(purge=True)  # a fresh stack: nothing left over from an earlier session
        problem = port_problem(stack.settings.ports.items())
        if problem:
            pytest.exit(problem, returncode=4)
    stack.up()
    yield stack
    if not keep:
        stack.down(purge=True)


@pytest.fixture(name="platform_environ", scope="session")
def fx_platform_environ(platform: LocalPlatform) -> dict[str, str]:
    """The environment of ``ecomctl`` commands aimed at the session platform."""
    return stack_environ(platform.settings.state_root, TEST_OFFSET)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread from its first test to the end of the session, and ``asyncio.run`` (used by many
    tests and by the stack's provisioning) refuses to start inside a running loop.

    The tests on the real Pulumi engine run just before them, and when the engine is not built
    yet its build (minutes of Go, once per machine) starts now, in the background at low
    priority, so it overlaps the rest of the suite; their ``pulumi_binary`` fixture waits for it."""
    items.sort(key=lambda item: (item.get_closest_marker("browser") is not None,
                                 "pulumi_binary" in getattr(item, "fixturenames", ())))  # stable
    if any("pulumi_binary" in getattr(item, "fixturenames", ()) for item in items):
        _start_engine_build(config)


def _start_engine_build(config: pytest.Config) -> None:
    from ecomctl.cloud import pulumi_cli

    if os.access(pulumi_cli.cache_root() / "bin" / "pulumi", os.X_OK):
        return
    log = Path(str(config.rootpath)) / "artifacts" / "pulumi-cli-build.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "w", encoding="utf-8") as out:
        build = subprocess.Popen(["nice", "-n", "19", sys.executable, "-m", "ecomctl.cloud.pulumi_cli"],
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    config.stash[_ENGINE_BUILD] = build


_ENGINE_BUILD = pytest.StashKey[subprocess.Popen[bytes]]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An engine build no test waited for (the session was cut short) stops with the session."""
    build = session.config.stash.get(_ENGINE_BUILD, None)
    if build is not None and build.poll() is None:
        os.killpg(build.pid, signal.SIGTERM)
