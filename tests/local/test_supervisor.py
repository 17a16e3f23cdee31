"""The supervisor on tiny real processes: a crash-looping component fails `up` with its log lines,
a killed one is restarted, down leaves nothing (no platform needed)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from ecomctl.errors import StartupError
from ecomctl.local import probes
from ecomctl.local.platform import LocalPlatform, QuietReporter
from ecomctl.local.spec import ComponentSpec, ProbeResult
from ecomctl.local.supervisor import kill_strays, stray_processes
from ecomctl.settings import Settings


def _platform(tmp_path: Path) -> LocalPlatform:
    return LocalPlatform(Settings.load({"HOME": str(tmp_path), "ECOMCTL_STATE_DIR": str(tmp_path / "state"),
                                        "ECOMCTL_READY_TIMEOUT": "6"}))


def _spec(name: str, code: str, probe=lambda: ProbeResult(True, "ok"), port: int | None = None) -> ComponentSpec:  # type: ignore[no-untyped-def]
    return ComponentSpec(name=name, kind="worker", requires=(), command=(sys.executable, "-c", code),
                         env={"PYTHONUNBUFFERED": "1"}, cwd=Path("/"), probe=probe,
                         ports=(port,) if port else (), start_seconds=1, stop_wait_seconds=3)


def test_a_crash_looping_component_fails_with_its_last_log_lines(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    platform.layout.ensure()
    spec = _spec("crasher", "print('boom: cannot open the frobnicator'); raise SystemExit(3)")
    try:
        platform.supervisor.ensure_running([spec])
        with pytest.raises(StartupError) as err:
            platform._start_all([spec], QuietReporter())
        assert "crasher did not start" in err.value.message
        assert "boom: cannot open the frobnicator" in (err.value.details or "")
        assert "ecomctl logs crasher" in (err.value.hint or "")
    finally:
        platform.supervisor.shutdown()
        kill_strays(platform.layout)


def test_a_killed_process_is_restarted_and_down_leaves_nothing(tmp_path: Path, unused_port: int) -> None:
    platform = _platform(tmp_path)
    platform.layout.ensure()
    server = (
        "import socket,time\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('127.0.0.1',{unused_port})); s.listen(); time.sleep(3600)"
    )
    spec = _spec("sleeper", server, probe=lambda: probes.tcp("127.0.0.1", unused_port), port=unused_port)
    try:
        platform.supervisor.ensure_running([spec])
        platform._start_all([spec], QuietReporter())
        first = platform.supervisor.process("sleeper")
        assert first is not None and first.state == "RUNNING"
        assert stray_processes(platform.layout) == [first.pid]  # found by its marker
        os.kill(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            again = platform.supervisor.process("sleeper")
            if again and again.state == "RUNNING" and again.pid != first.pid and spec.probe().ok:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("not restarted within 15 s")
    finally:
        platform.supervisor.stop_many(["sleeper"])
        platform.supervisor.shutdown()
    assert stray_processes(platform.layout) == []
    assert not probes.port_in_use(unused_port)
    assert not platform.supervisor.running()


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_down_order_stops_each_component_after_its_users_and_the_rest_at_once(tmp_path: Path) -> None:
    """`stop_in_order`: a store stops only once its (slow to stop) user has; unrelated parts don't wait."""
    platform = _platform(tmp_path)
    platform.layout.ensure()
    stamps = tmp_path / "stopped"
    stamps.mkdir()

    def stopper(name: str, linger_s: float) -> ComponentSpec:
        code = (
            "import signal,sys,time\n"
            "def stop(*_):\n"
            f"    time.sleep({linger_s})\n"
            f"    open({str(stamps / name)!r}, 'w').write(repr(time.time()))\n"
            "    sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "while True: time.sleep(1)\n"
        )
        return _spec(name, code)

    specs = [stopper("store", 0.0), stopper("user", 1.5), stopper("other", 0.0)]
    try:
        platform.supervisor.ensure_running(specs)
        platform._start_all(specs, QuietReporter())
        seen: list[tuple[str, str]] = []
        platform.supervisor.stop_in_order(["store", "user", "other"], {"store": {"user"}},
                                          on_change=lambda name, state: seen.append((name, state)))
    finally:
        platform.supervisor.shutdown()
        kill_strays(platform.layout)
    stopped_at = {p.name: float(p.read_text()) for p in stamps.iterdir()}
    assert set(stopped_at) == {"store", "user", "other"}  # each got SIGTERM and exited by itself
    assert stopped_at["store"] >= stopped_at["user"]  # not before its user
    assert stopped_at["other"] < stopped_at["user"] - 1.0  # not held back by the slow user
    assert seen.index(("store", "stopping")) > seen.index(("user", "stopped"))
