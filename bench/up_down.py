"""Benchmark: how long `ecomctl up` (cold and warm) and `ecomctl down` take on this machine.

cold = first `up` of a purged stack (installs and downloads already cached: jars, virtualenvs,
       MariaDB package), so it includes creating the data directories, formatting Kafka, creating
       databases, topics, tables; warm = `up` after `down` (data kept).
Each phase runs the real CLI in a subprocess against a private stack (own state dir and ports).

    .venv/bin/python bench/up_down.py --rounds 3 [--offset 40000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time


def run(args: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "ecomctl", *args], env=env, capture_output=True, text=True)
    took = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"ecomctl {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--offset", type=int, default=40000)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="ecomctl-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMCTL_PORT_")}
    env.update(ECOMCTL_STATE_DIR=state, ECOMCTL_PORT_OFFSET=str(args.offset))
    cold, warm, down = [], [], []
    try:
        for i in range(args.rounds):
            cold.append(run(["up"], env))
            down.append(run(["down"], env))
            warm.append(run(["up"], env))
            down.append(run(["down", "--purge"], env))
            print(f"round {i + 1}: cold up {cold[-1]:.1f}s, down {down[-2]:.1f}s, "
                  f"warm up {warm[-1]:.1f}s, down --purge {down[-1]:.1f}s", flush=True)
    finally:
        subprocess.run([sys.executable, "-m", "ecomctl", "down", "--purge"], env=env, capture_output=True)
    result = {
        "machine": f"{os.cpu_count()} cores, {platform.platform()}",
        "rounds": args.rounds,
        "cold_up_median_s": round(statistics.median(cold), 1),
        "warm_up_median_s": round(statistics.median(warm), 1),
        "down_median_s": round(statistics.median(down), 1),
        "cold_up_s": [round(x, 1) for x in cold],
        "warm_up_s": [round(x, 1) for x in warm],
        "down_s": [round(x, 1) for x in down],
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
