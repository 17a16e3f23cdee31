"""Faults on demand for the local stack: kill, stop, pause or slow one component, for a bounded time.

Each action runs in the foreground of the process that asked for it and is undone when its time is
up, on Ctrl-C or on SIGTERM (``inject`` restores in a ``finally``):

- ``kill``: SIGKILL to the component's process group (the process and any children, as an out-of-memory
  kill would); supervisord restarts it. Ends when the component is healthy again.
- ``stop``: a clean stop through supervisord (its port closes: clients get "connection refused"),
  then a start after ``for_s``.
- ``pause``: SIGSTOP to the process group (its port stays open and accepts connections nobody
  answers: clients run into their timeouts), SIGCONT after ``for_s``.
- ``latency``: a SIGSTOP/SIGCONT duty cycle on a service's process group: stopped ``ms``, then
  running ``RUN_MS``, over and over. A request that arrives while it is stopped waits up to ``ms``
  more; one that arrives while it runs is delayed only if it needs longer than what is left of
  the running slice. No root, no proxy, no change to the service: the delay is real scheduling
  delay, not a sleep inside the request. Throughput drops to ``RUN_MS / (ms + RUN_MS)``.

While an action is active its record (``run/chaos-<component>.json`` in the stack's state
directory: action, until, the owner's pid and start time) makes ``status`` show the component as ``chaos`` with
what is done to it. A record whose owner died (a ``kill -9`` of the ``ecomctl chaos`` process) or
that outlived its deadline by ``STALE_GRACE_S`` is restored by the next ``status`` or ``up``: the
component is started or continued, and the record removed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from blueprint.topology import TOPOLOGY
from ecomctl.errors import ConfigError, StartupError
from ecomctl.local.layout import Layout
from ecomctl.local.supervisor import Supervisor
from ecomctl.settings import LOCAL_STACK

if TYPE_CHECKING:
    from ecomctl.local.platform import LocalPlatform

ACTIONS = ("kill", "stop", "pause", "latency")
DEFAULT_FOR_S = 30.0
MAX_FOR_S = 300.0
MAX_LATENCY_MS = 5000
RUN_MS = 50  # the running slice of the latency duty cycle
RECOVER_TIMEOUT_S = 180.0  # how long a restore waits for the component to be healthy again
STALE_GRACE_S = RECOVER_TIMEOUT_S + 30  # past its deadline by this much, a record's owner is taken as stuck


@dataclass(frozen=True)
class Fault:
    """An active fault as recorded in the stack's state directory."""

    action: str
    component: str
    until: float  # epoch seconds when it is undone
    owner: int  # pid of the process that undoes it
    owner_started: float  # its start time (a pid reused by another process is not the owner)
    pgid: int = 0  # the process group stopped (pause, latency)
    ms: int = 0

    def describe(self, now: float | None = None) -> str:
        left = max(0.0, self.until - (time.time() if now is None else now))
        if self.action == "kill":
            return "chaos: killed, restarting"
        what = {"stop": "stopped", "pause": "paused (SIGSTOP)", "latency": f"+{self.ms} ms latency"}[self.action]
        return f"chaos: {what} for {left:.0f} s more" if left > 0 else f"chaos: {what}, restoring"


@dataclass(frozen=True)
class Outcome:
    """What an action did: how long the fault lasted and how long the component took to be healthy again."""

    action: str
    component: str
    fault_s: float
    recovery_s: float
    interrupted: bool

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "fault_s": round(self.fault_s, 2), "recovery_s": round(self.recovery_s, 2)}


# -- records ------------------------------------------------------------------------------------
def _write(layout: Layout, fault: Fault) -> None:
    path = layout.run / f"chaos-{fault.component}.json"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{fault.component} is already under a chaos action",
                          hint="ecomctl status shows it; wait for it to end or interrupt its ecomctl chaos") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(fault), fh)


def _clear(layout: Layout, component: str) -> None:
    (layout.run / f"chaos-{component}.json").unlink(missing_ok=True)


def recorded(layout: Layout) -> list[Fault]:
    """Every fault recorded for the stack (active or stale)."""
    found = []
    for path in sorted(layout.run.glob("chaos-*.json")):
        try:
            found.append(Fault(**json.loads(path.read_text())))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: nothing to restore from it
    return found


def _started(pid: int) -> float:
    """When process ``pid`` started (0 when it is gone or a zombie)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return 0.0 if process.status() == psutil.STATUS_ZOMBIE else float(process.create_time())
    except psutil.Error:
        return 0.0


def active(layout: Layout, supervisor: Supervisor) -> dict[str, Fault]:
    """The faults in force, by component; stale ones (owner gone or long overdue) are restored first."""
    faults: dict[str, Fault] = {}
    now = time.time()
    for fault in recorded(layout):
        mine = fault.owner == os.getpid()
        if not mine and (_started(fault.owner) != fault.owner_started or now > fault.until + STALE_GRACE_S):
            _undo(fault, supervisor)
            _clear(layout, fault.component)
        else:
            faults[fault.component] = fault
    return faults


def _undo(fault: Fault, supervisor: Supervisor) -> None:
    """Put back what ``fault`` took away, without waiting for health."""
    if fault.pgid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(fault.pgid, signal.SIGCONT)
    if fault.action == "stop" and supervisor.running():
        with contextlib.suppress(StartupError):
            supervisor.start(fault.component)


# -- actions ------------------------------------------------------------------------------------
def inject(
    stack: str, action: str, component: str, for_s: float = DEFAULT_FOR_S, ms: int = 0,
    progress: Callable[[str], None] | None = None, platform: LocalPlatform | None = None,
    stop_event: threading.Event | None = None,
) -> Outcome:
    """Apply ``action`` to ``component`` for ``for_s`` seconds, then restore it and wait until it is healthy.

    ``stop_event`` (set from another thread) or Ctrl-C / SIGTERM ends the fault early.
    """
    if stack != LOCAL_STACK:
        raise ConfigError(f"ecomctl chaos works on the local stack only, not on {stack!r}",
                          hint="faults on a cloud stack belong to the cloud provider's own tools")
    if platform is None:
        from ecomctl.local.platform import LocalPlatform

        platform = LocalPlatform()
    _check(platform, action, component, for_s, ms)
    say = progress or (lambda _message: None)
    stop_event = stop_event or threading.Event()
    with _sigterm_as_interrupt():
        return _run(platform, action, component, for_s, ms, say, stop_event)


def name_problem(action: str, component: str) -> str | None:
    """Why ``action`` cannot be applied to ``component`` by name (one line), or None."""
    from ecomctl.local.platform import component_names

    if action not in ACTIONS:
        return f"no chaos action {action!r} (one of: {', '.join(ACTIONS)})"
    if action == "latency":
        services = [s.name for s in TOPOLOGY.services]
        if component not in services:
            return f"latency applies to a service, not to {component!r} (one of: {', '.join(services)})"
    elif component not in component_names():
        return f"no component named {component!r} (one of: {', '.join(component_names())})"
    return None


def _check(platform: LocalPlatform, action: str, component: str, for_s: float, ms: int) -> None:
    problem = name_problem(action, component)
    if problem:
        raise ConfigError(problem)
    if not 0 < for_s <= MAX_FOR_S:
        raise ConfigError(f"--for must be between 0 and {MAX_FOR_S:.0f} s, not {for_s:g}")
    if action == "latency" and not 0 < ms <= MAX_LATENCY_MS:
        raise ConfigError(f"--ms must be between 1 and {MAX_LATENCY_MS}, not {ms}")
    if not platform.created or not platform.supervisor.running():
        raise ConfigError("the local stack is not running", hint="ecomctl up")


def _run(platform: LocalPlatform, action: str, component: str, for_s: float, ms: int,
         say: Callable[[str], None], stop_event: threading.Event) -> Outcome:
    layout, supervisor = platform.layout, platform.supervisor
    active(layout, supervisor)  # restores a stale record of this component before taking it over
    info = supervisor.process(component)
    if info is None or info.state != "RUNNING" or info.pid <= 0:
        raise ConfigError(f"{component} is not running ({info.state.lower() if info else 'unknown'})",
                          hint="ecomctl status; ecomctl up")
    if action == "kill":
        for_s = 0.0
    group = os.getpgid(info.pid)
    if group == os.getpgrp():
        raise ConfigError(f"{component} runs in this process's own group; refusing to signal it")
    pgid = group if action in ("pause", "latency") else 0
    fault = Fault(action, component, time.time() + for_s, os.getpid(), _started(os.getpid()), pgid, ms)
    _write(layout, fault)
    started = time.monotonic()
    interrupted = False
    try:
        try:
            interrupted = _apply(fault, info.pid, group, supervisor, for_s, say, stop_event)
        except KeyboardInterrupt:
            interrupted = True
        fault_s = time.monotonic() - started
        say(f"{component}: restoring")
        restore_started = time.monotonic()
        _undo(fault, supervisor)
        _wait_healthy(platform, component, time.monotonic() + RECOVER_TIMEOUT_S)
        recovery_s = time.monotonic() - (started if action == "kill" else restore_started)
    except BaseException:
        _undo(fault, supervisor)  # whatever happened, never leave it stopped
        raise
    finally:
        _clear(layout, component)
    say(f"{component}: healthy again after {recovery_s:.1f} s")
    return Outcome(action, component, fault_s, recovery_s, interrupted)


def _apply(fault: Fault, pid: int, group: int, supervisor: Supervisor, for_s: float,
           say: Callable[[str], None], stop_event: threading.Event) -> bool:
    """Do the fault and hold it until its deadline; True when ended early."""
    deadline = time.monotonic() + for_s
    if fault.action == "kill":
        os.killpg(group, signal.SIGKILL)
        say(f"{fault.component}: killed (process group of pid {pid}); supervisord restarts it")
        _wait_replaced(supervisor, fault.component, pid, time.monotonic() + RECOVER_TIMEOUT_S)
        return False
    if fault.action == "stop":
        supervisor.stop_many([fault.component])
        say(f"{fault.component}: stopped for {for_s:g} s")
    elif fault.action == "pause":
        os.killpg(fault.pgid, signal.SIGSTOP)
        say(f"{fault.component}: paused (SIGSTOP) for {for_s:g} s")
    else:
        say(f"{fault.component}: +{fault.ms} ms latency (stopped {fault.ms} ms, running {RUN_MS} ms) "
            f"for {for_s:g} s")
        while time.monotonic() < deadline and not stop_event.is_set():
            os.killpg(fault.pgid, signal.SIGSTOP)
            stop_event.wait(min(fault.ms / 1000, max(0.0, deadline - time.monotonic())))
            os.killpg(fault.pgid, signal.SIGCONT)
            stop_event.wait(RUN_MS / 1000)
        return stop_event.is_set()
    return stop_event.wait(max(0.0, deadline - time.monotonic()))


def _wait_replaced(supervisor: Supervisor, component: str, old_pid: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        info = supervisor.process(component)
        if info is not None and info.state == "RUNNING" and info.pid not in (0, old_pid):
            return
        time.sleep(0.1)
    raise StartupError(f"{component} was not restarted by supervisord")


def _wait_healthy(platform: LocalPlatform, component: str, deadline: float) -> None:
    from ecomctl.local.platform import _check as check_component

    spec = next(s for s in platform.specs() if s.name == component)
    detail = ""
    while time.monotonic() < deadline:
        state, detail = check_component(spec, platform.supervisor.process(component))
        if state == "healthy":
            return
        if state == "stopped":  # asked to start a moment ago, or given up by supervisord
            platform.supervisor.start(component)
        time.sleep(0.2)
    raise StartupError(f"{component} is not healthy again after {RECOVER_TIMEOUT_S:.0f} s ({detail})",
                       hint=f"ecomctl logs {component}; ecomctl up repairs it")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, SIGTERM ends the fault like Ctrl-C (so the restore runs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
