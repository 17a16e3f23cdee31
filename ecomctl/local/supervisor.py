"""supervisord as the local stack's process supervisor.

One supervisord per local stack, daemonised, controlled over a unix socket with XML-RPC.
Programs are registered with ``autostart=false`` and ``autorestart=true``: ``up`` starts them
stage by stage (waiting for health in between), supervisord restarts any that dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import xmlrpc.client
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecomctl.errors import StartupError
from ecomctl.local.layout import Layout
from ecomctl.local.spec import ComponentSpec

MARKER = "ECOMCTL_COMPONENT"
_STOPPED_STATES = frozenset({"STOPPED", "EXITED", "FATAL"})


@dataclass(frozen=True)
class ProcessInfo:
    name: str
    state: str  # supervisord state name: RUNNING, STARTING, BACKOFF, STOPPED, EXITED, FATAL, ...
    pid: int
    uptime_s: float
    description: str


def marker(layout: Layout, name: str) -> str:
    return f"{layout.root}::{name}"


def write_env_files(layout: Layout, specs: Sequence[ComponentSpec]) -> list[str]:
    """Write each component's command and environment; returns those that changed."""
    changed: list[str] = []
    for spec in specs:
        path = layout.env_file(spec.name)
        payload = json.dumps({
            "argv": list(spec.command),
            "cwd": str(spec.cwd),
            "env": {**spec.env, MARKER: marker(layout, spec.name)},
        }, sort_keys=True)
        if path.exists() and path.read_text() == payload:
            continue
        changed.append(spec.name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
    return changed


def render_config(layout: Layout, specs: Sequence[ComponentSpec]) -> str:
    sock = layout.supervisor_socket
    lines = [
        "[unix_http_server]", f"file={sock}", "chmod=0700", "",
        "[supervisord]", f"logfile={layout.supervisor_log}", "logfile_maxbytes=5MB",
        "logfile_backups=1", f"pidfile={layout.supervisor_pid}", f"directory={layout.root}",
        "nodaemon=false", "minfds=4096", "", "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{sock}", "",
    ]
    for spec in specs:
        lines += [
            f"[program:{spec.name}]",
            f"command={sys.executable} -m ecomctl.local.launch {layout.env_file(spec.name)}",
            f"directory={spec.cwd}",
            "autostart=false",
            "autorestart=true",
            f"startsecs={spec.start_seconds}",
            "startretries=20",
            "stopsignal=TERM",
            f"stopwaitsecs={spec.stop_wait_seconds}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={layout.log_file(spec.name)}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
            "",
        ]
    return "\n".join(lines).replace("%", "%%")


class Supervisor:
    """A handle on the stack's supervisord (which may or may not be running)."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    # -- the daemon -------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.layout.supervisor_pid.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except OSError:
            return None
        return pid

    def running(self) -> bool:
        if self.pid() is None:
            return False
        try:
            self._rpc().supervisor.getState()
        except (OSError, xmlrpc.client.Fault):
            return False
        return True

    def ensure_running(self, specs: Sequence[ComponentSpec]) -> list[str]:
        """Start supervisord, or reload it when the programs changed. Returns changed names.

        A running component whose command or environment changed is stopped here, so that
        ``up`` starts it again with the new definition.
        """
        redefined = write_env_files(self.layout, specs)
        config = render_config(self.layout, specs)
        conf_path = self.layout.supervisor_conf
        old = conf_path.read_text() if conf_path.exists() else None
        fd = os.open(conf_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(config)
        if not self.running():
            self._start_daemon()
            return [s.name for s in specs]
        if redefined:
            self.stop_many(redefined)
        if old == config:
            return redefined
        added, changed, removed = self._rpc().supervisor.reloadConfig()[0]
        for name in changed + removed:
            self._stop_quietly(name)
            self._rpc().supervisor.removeProcessGroup(name)
        for name in changed + added:
            self._rpc().supervisor.addProcessGroup(name)
        return sorted(set(added) | set(changed) | set(redefined))

    def _start_daemon(self) -> None:
        self.layout.supervisor_socket.unlink(missing_ok=True)
        proc = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisord", "-c", str(self.layout.supervisor_conf)],
            capture_output=True, text=True, timeout=30,
        )
        if proc.returncode != 0:
            raise StartupError("supervisord did not start", details=(proc.stdout + proc.stderr)[-2000:])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.running():
                return
            time.sleep(0.05)
        raise StartupError("supervisord did not answer on its socket", details=self._log_tail())

    def shutdown(self, timeout_s: float = 10.0) -> None:
        pid = self.pid()
        if pid is None:
            return
        try:
            self._rpc().supervisor.shutdown()
        except (OSError, xmlrpc.client.Fault):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.05)
        if self.pid() is not None:
            os.kill(pid, signal.SIGKILL)

    # -- programs ---------------------------------------------------------------------------
    def start(self, name: str) -> None:
        """Ask for a start without waiting (health is the caller's business)."""
        try:
            self._rpc().supervisor.startProcess(name, False)
        except xmlrpc.client.Fault as fault:
            if "ALREADY_STARTED" not in fault.faultString:
                raise StartupError(f"{name}: supervisord refused to start it ({fault.faultString})") from None

    def stop_many(self, names: Sequence[str], timeout_s: float = 30.0) -> None:
        """Stop ``names`` together and wait until none runs."""
        self.stop_in_order(names, {}, timeout_s)

    def stop_in_order(
        self, names: Sequence[str], users: Mapping[str, Iterable[str]], timeout_s: float = 30.0,
        on_change: Callable[[str, str], None] | None = None,
    ) -> None:
        """Stop ``names``, each as soon as every one of its ``users`` has stopped; wait for all.

        Unrelated components stop concurrently, so the whole takes as long as the longest chain
        (e.g. the stream job's savepoint, then Kafka), not the sum of the slowest of each tier.
        ``on_change(name, "stopping" | "stopped")`` reports progress.
        """
        notify = on_change or (lambda _name, _state: None)
        waiting = {n: {u for u in users.get(n, ()) if u in names and u != n} for n in names}
        asked: set[str] = set()
        reported: set[str] = set()
        deadline = time.monotonic() + timeout_s
        while True:
            states = {p.name: p.state for p in self.processes()}
            stopped = {n for n in names if states.get(n, "STOPPED") in _STOPPED_STATES}
            for name in sorted(stopped - reported):
                reported.add(name)
                notify(name, "stopped")
            if stopped == set(names) or time.monotonic() > deadline:
                return
            for name in names:
                if name not in asked and waiting[name] <= stopped:
                    asked.add(name)
                    if name not in stopped:
                        notify(name, "stopping")
                        self._stop_quietly(name, wait=False)
            time.sleep(0.05)

    def _stop_quietly(self, name: str, wait: bool = True) -> None:
        with contextlib.suppress(xmlrpc.client.Fault):  # not running / unknown
            self._rpc().supervisor.stopProcess(name, wait)

    def processes(self) -> list[ProcessInfo]:
        if not self.running():
            return []
        infos: list[dict[str, Any]] = self._rpc().supervisor.getAllProcessInfo()
        return [
            ProcessInfo(
                name=i["name"], state=i["statename"], pid=int(i["pid"]),
                uptime_s=float(i["now"] - i["start"]) if i["statename"] == "RUNNING" else 0.0,
                description=i["description"],
            )
            for i in infos
        ]

    def process(self, name: str) -> ProcessInfo | None:
        return next((p for p in self.processes() if p.name == name), None)

    def _rpc(self) -> Any:
        from supervisor.xmlrpc import SupervisorTransport

        transport = SupervisorTransport(None, None, f"unix://{self.layout.supervisor_socket}")
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.layout.supervisor_log.read_text().splitlines()[-lines:])
        except OSError:
            return ""


def stray_processes(layout: Layout) -> list[int]:
    """Pids of processes of this stack that outlived their supervisor (found by their marker)."""
    import psutil

    prefix = f"{layout.root}::"
    found: list[int] = []
    for proc in psutil.process_iter(["pid"]):
        try:
            env = proc.environ()
        except (psutil.Error, OSError):
            continue
        if env.get(MARKER, "").startswith(prefix):
            found.append(proc.pid)
    return found


def kill_strays(layout: Layout, timeout_s: float = 5.0) -> int:
    import psutil

    pids = stray_processes(layout)
    procs = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            p.terminate()
            procs.append(p)
        except psutil.Error:
            continue
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    return len(pids)
