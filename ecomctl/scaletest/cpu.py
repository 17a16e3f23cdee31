"""CPU seconds used by each component of a local stack: its whole process tree, from ``/proc``.

A service's granian workers and the Flink job's Python workers are children of the process the
supervisor started, so a component's figure is the sum over its tree (``utime + stime``).
``everything else`` is the machine's busy time that no component used (the load generator
among it). Linux only: elsewhere :func:`available` is False and nothing is sampled.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OTHER = "everything else"


def available() -> bool:
    return Path("/proc/stat").exists()


def model() -> str:
    """The processor's model name (``/proc/cpuinfo``), or ``unknown``."""
    try:
        found = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    except OSError:
        return "unknown"
    return found.group(1).strip() if found else "unknown"


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, utime+stime in clock ticks) of every process now."""
    table: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) "; comm may hold spaces
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def busy_ticks() -> int:
    """Every core's non-idle time since boot (``/proc/stat``), in clock ticks."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


def tree(table: Mapping[int, tuple[int, int]], root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in table and pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


class CpuMeter:
    """CPU seconds per component since :meth:`start` (a process that ended meanwhile is not counted)."""

    def __init__(self, components: Mapping[str, int]) -> None:
        self.components = dict(components)
        self._before: dict[int, int] = {}
        self._busy = 0
        self.since = time.monotonic()  # when the count began

    def start(self) -> None:
        self._before = {pid: ticks for pid, (_, ticks) in process_table().items()}
        self._busy = busy_ticks()
        self.since = time.monotonic()

    def read(self, restart: bool = False) -> dict[str, float]:
        """Seconds used since start, per component, plus :data:`OTHER`; ``restart``: count anew from now."""
        table, busy_now = process_table(), busy_ticks()
        busy = (busy_now - self._busy) / CLOCK_TICKS
        seconds = {}
        for name, root in self.components.items():
            seconds[name] = sum(table[p][1] - self._before.get(p, 0) for p in tree(table, root)) / CLOCK_TICKS
        seconds[OTHER] = max(0.0, busy - sum(seconds.values()))
        if restart:
            self._before, self._busy = {pid: ticks for pid, (_, ticks) in table.items()}, busy_now
            self.since = time.monotonic()
        return seconds
