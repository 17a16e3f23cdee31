"""Benchmark: how long `ecomctl up` (cold and warm) and `ecomctl down` take on this machine.

cold = first `up` of a purged stack (installs and downloads already cached: jars, virtualenvs,
       MariaDB package), so it includes creating the data directories, formatting Kafka, creating
       databases, topics, tables; warm = `up` after `down` (data kept).
Each phase runs the real CLI in a subprocess against a private stack (own state dir and ports).
Beside the wall-clock time, each `up` reports the CPU-seconds it took to reach all-healthy: the CLI's
own, plus those of every process of the stack alive at that point (found by the supervisor's marker
in their environment) and of their exited children. On a shared machine that is the stable figure;
wall-clock depends on what else runs.

    .venv/bin/python bench/up_down.py --rounds 3 [--offset 40000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

MARKER = "ECOMCTL_COMPONENT"  # ecomctl.local.supervisor.MARKER: "<stack dir>::<component>"


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds and the CLI's CPU-seconds of one ``ecomctl`` command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ecomctl", *args], env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"ecomctl {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def stack_cpu_s(state_dir: str) -> float:
    """CPU-seconds used so far by the stack's processes (and their exited children)."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["pid"]):
        try:
            if not proc.environ().get(MARKER, "").startswith(state_dir):
                continue
            times = proc.cpu_times()
        except (psutil.Error, OSError):
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def up(env: dict[str, str], state_dir: str) -> tuple[float, float]:
    """Wall-clock seconds of ``ecomctl up`` and CPU-seconds spent until all-healthy."""
    took, cli_cpu = run(["up"], env)
    return took, cli_cpu + stack_cpu_s(state_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--offset", type=int, default=40000)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="ecomctl-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMCTL_PORT_")}
    env.update(ECOMCTL_STATE_DIR=state, ECOMCTL_PORT_OFFSET=str(args.offset))
    cold: list[float] = []
    warm: list[float] = []
    down: list[float] = []
    cold_cpu: list[float] = []
    warm_cpu: list[float] = []
    try:
        for i in range(args.rounds):
            took, cpu = up(env, state)
            cold.append(took)
            cold_cpu.append(cpu)
            down.append(run(["down"], env)[0])
            took, cpu = up(env, state)
            warm.append(took)
            warm_cpu.append(cpu)
            down.append(run(["down", "--purge"], env)[0])
            print(f"round {i + 1}: cold up {cold[-1]:.1f}s ({cold_cpu[-1]:.1f} CPU-s), down {down[-2]:.1f}s, "
                  f"warm up {warm[-1]:.1f}s ({warm_cpu[-1]:.1f} CPU-s), down --purge {down[-1]:.1f}s",
                  flush=True)
    finally:
        subprocess.run([sys.executable, "-m", "ecomctl", "down", "--purge"], env=env, capture_output=True)
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "rounds": args.rounds,
        "cold_up_median_s": round(statistics.median(cold), 1),
        "warm_up_median_s": round(statistics.median(warm), 1),
        "down_median_s": round(statistics.median(down), 1),
        "cold_up_cpu_median_s": round(statistics.median(cold_cpu), 1),
        "warm_up_cpu_median_s": round(statistics.median(warm_cpu), 1),
        "cold_up_s": [round(x, 1) for x in cold],
        "warm_up_s": [round(x, 1) for x in warm],
        "down_s": [round(x, 1) for x in down],
        "cold_up_cpu_s": [round(x, 1) for x in cold_cpu],
        "warm_up_cpu_s": [round(x, 1) for x in warm_cpu],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
