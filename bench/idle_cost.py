"""Idle cost of a running local stack: CPU-seconds and RSS of its own processes over a window.

    ECOMCTL_STATE_DIR=... ECOMCTL_PORT_OFFSET=... .venv/bin/python bench/idle_cost.py [--seconds 60] [--json]

Every component's whole process tree (granian workers, the Flink job's Python workers) from the
supervisor's pids; utime+stime from /proc at the start and the end of the window, so the figure is
the stack's own CPU whatever else the machine runs. RSS is summed at the end (shared pages count
once per process: an upper bound). Prints the total and each component's share.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time

import psutil

from ecomctl.local.platform import LocalPlatform


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _cpu(procs: list[psutil.Process]) -> dict[int, float]:
    out: dict[int, float] = {}
    for proc in procs:
        try:
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return out


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def measure(seconds: float) -> dict[str, object]:
    status = LocalPlatform().status()
    trees = {c.name: _tree(c.pid) for c in status.components if c.pid}
    before = {name: _cpu(procs) for name, procs in trees.items()}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    components: dict[str, dict[str, float]] = {}
    for name, procs in trees.items():
        after = _cpu(procs)
        cpu_s = sum(after[pid] - before[name].get(pid, 0.0) for pid in after)
        components[name] = {"cpu_s": round(cpu_s, 2), "core_pct": round(100 * cpu_s / elapsed, 2),
                            "rss_mib": round(_rss(procs) / 2**20, 1)}
    total_cpu = sum(c["cpu_s"] for c in components.values())
    total_rss = sum(c["rss_mib"] for c in components.values())
    return {"seconds": round(elapsed, 1), "cpu_s": round(total_cpu, 2),
            "core_pct": round(100 * total_cpu / elapsed, 2), "rss_gib": round(total_rss / 1024, 2),
            "components": components}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.seconds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['seconds']} s: {result['cpu_s']} CPU-s = {result['core_pct']} % of one core, "
          f"RSS {result['rss_gib']} GiB")
    components = result["components"]
    assert isinstance(components, dict)
    for name, c in sorted(components.items(), key=lambda kv: -kv[1]["cpu_s"]):
        print(f"  {name:<18} {c['cpu_s']:>7.2f} CPU-s {c['core_pct']:>6.2f} %  {c['rss_mib']:>8.1f} MiB")


if __name__ == "__main__":
    main()
