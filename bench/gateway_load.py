"""Load benchmark of the api-gateway with wrk on loopback (repeatable: it seeds its own data).

Scenarios (each through the gateway, ``-c`` connections, ``-d`` seconds):
  product   GET  /api/products/{id}
  page      GET  /api/products?limit=20&category=<bench category>   (20-item page)
  me        GET  /api/users/me                                    (bearer token)
  order     POST /api/orders                                       (bearer token, 1 unit)

Usage (a running stack; credentials from ``ecomctl credentials --json`` or flags):
  python bench/gateway_load.py --url http://127.0.0.1:8000 [-c 64] [-d 15] [-t 2] [--json] [--cpu]

``--cpu`` also reports where the CPU went: the utime+stime of every component of the stack
(``ecomctl status --json``: each component's process tree, so a service's granian worker and
the Flink job's Python workers count) and of wrk itself, over each scenario, as microseconds per
request and as a share of the two cores. The stack is the one ``ecomctl`` sees in this
environment (``ECOMCTL_STATE_DIR``, ``ECOMCTL_PORT_OFFSET``).

``--settle S`` waits, before the first and after every scenario, until the stack is idle (at most
S seconds), and flags a scenario that started on a busy stack. Give it enough: the events of a
15 s order burst keep the notifications consumer, the SNS emulator and DynamoDB Local busy for a
minute or more afterwards, and a scenario run meanwhile measures that work as well.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from ecomctl.scaletest import cpu

TARGETS = {  # scenario -> (min req/s, max p99 ms or None)
    "product": (3000.0, 50.0),
    "page": (1000.0, None),
    "me": (3000.0, None),
    "order": (500.0, 150.0),
}


@dataclass
class Result:
    scenario: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    target_rps: float
    target_p99_ms: float | None
    load_average: float = 0.0  # 1-minute load average after the run: other work sharing the cores
    cpu_us_per_request: dict[str, float] | None = None  # --cpu: component -> CPU microseconds per request
    settle_s: float | None = None  # --settle: seconds waited after the scenario for the stack to be idle
    settled: bool = False  # --settle: whether it became idle within the limit
    deferred_us_per_request: dict[str, float] | None = None  # --settle: CPU spent meanwhile, per request
    started_idle: bool | None = None  # --settle: whether the stack was idle when the scenario started

    @property
    def meets_target(self) -> bool:
        ok = self.requests_per_s >= self.target_rps
        if self.target_p99_ms is not None:
            ok = ok and self.p99_ms <= self.target_p99_ms
        if self.scenario == "order":
            ok = ok and self.errors == 0
        return ok


def credentials(args: argparse.Namespace) -> tuple[str, str]:
    if args.admin_email and args.admin_password:
        return args.admin_email, args.admin_password
    out = subprocess.run([sys.executable, "-m", "ecomctl", "credentials", "--json"], capture_output=True,
                         text=True, check=True)
    data = json.loads(out.stdout)
    return data["admin_email"], data["admin_password"]


def seed(url: str, admin_email: str, admin_password: str) -> dict[str, str]:
    """A user, a category of 25 products, and one product with stock for every order of the run."""
    with httpx.Client(base_url=url, timeout=30) as api:
        admin = api.post("/api/auth/login", json={"email": admin_email, "password": admin_password})
        admin.raise_for_status()
        admin_headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        category = f"bench-{uuid.uuid4().hex[:8]}"
        ids = []
        for n in range(25):
            made = api.post("/api/products", headers=admin_headers, json={
                "name": f"Bench item {n}", "price": "9.99", "stock": 1_000_000_000, "category": category,
                "description": "load benchmark item"})
            made.raise_for_status()
            ids.append(made.json()["product_id"])
        email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "bench-password-1"
        api.post("/api/users", json={"name": "Bench", "email": email, "password": password}).raise_for_status()
        token = api.post("/api/auth/login", json={"email": email, "password": password}).json()["access_token"]
    return {"product_id": ids[0], "category": category, "token": token}


def stack_components() -> dict[str, int]:
    """component -> pid of the stack ``ecomctl`` sees in this environment."""
    out = subprocess.run([sys.executable, "-m", "ecomctl", "status", "--json"], capture_output=True, text=True,
                         check=False)
    return {c["name"]: int(c["pid"]) for c in json.loads(out.stdout)["components"] if c.get("pid")}


class CpuMeter:
    """CPU seconds per component (its whole process tree), wrk, and everything else, over a run:
    the scale test's meter (``ecomctl.scaletest.cpu``) with wrk, a child of this process, apart."""

    def __init__(self, components: dict[str, int]) -> None:
        self.components = components
        self._meter = cpu.CpuMeter(components)
        self._children = 0.0

    def start(self) -> None:
        self._meter.start()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._children = usage.ru_utime + usage.ru_stime

    def stop(self) -> dict[str, float]:
        seconds = self._meter.read()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk = usage.ru_utime + usage.ru_stime - self._children
        seconds[cpu.OTHER] = max(0.0, seconds[cpu.OTHER] - wrk)
        return {"wrk": wrk, **seconds}


IDLE_CORES = 0.15  # the stack is idle below this (JVMs, Kafka and the Flink job idling)


def settle(components: dict[str, int], timeout_s: float) -> tuple[float, bool, dict[str, float]]:
    """Wait until the stack's components together use less than ``IDLE_CORES`` (2 s windows):
    the seconds waited, whether the stack became idle, and the CPU seconds each component used
    meanwhile (work a scenario left behind: events still being consumed)."""
    started = time.monotonic()
    total = CpuMeter(components)
    total.start()
    idle = False
    while not idle and time.monotonic() - started < timeout_s:
        window = CpuMeter(components)
        window.start()
        time.sleep(2)
        used = window.stop()
        idle = sum(v for k, v in used.items() if k in components) / 2 < IDLE_CORES
    return time.monotonic() - started, idle, {k: v for k, v in total.stop().items() if k in components}


def cpu_table(results: list[Result], shares: dict[str, dict[str, float]], duration_s: int) -> list[str]:
    """Markdown: CPU microseconds per request, per component, and each scenario's share of the cores."""
    names = sorted({n for r in results for n in (r.cpu_us_per_request or {})},
                   key=lambda n: -max((r.cpu_us_per_request or {}).get(n, 0.0) for r in results))
    rows = ["| component | " + " | ".join(f"{r.scenario} us/req (cores)" for r in results) + " |",
            "|---|" + "---|" * len(results)]
    for name in names:
        cells = [f"{(r.cpu_us_per_request or {}).get(name, 0.0):.0f}"
                 f" ({shares[r.scenario].get(name, 0.0) / duration_s:.2f})" for r in results]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def lua(method: str, headers: dict[str, str], body: str | None) -> str:
    lines = [f'wrk.method = "{method}"']
    for name, value in headers.items():
        lines.append(f'wrk.headers["{name}"] = "{value}"')
    if body is not None:
        lines.append(f"wrk.body = '{body}'")
    return "\n".join(lines) + "\n"


def scenarios(seeded: dict[str, str]) -> dict[str, tuple[str, str]]:
    auth = {"Authorization": f"Bearer {seeded['token']}"}
    order = json.dumps({"product_id": seeded["product_id"], "quantity": 1})
    return {
        "product": (f"/api/products/{seeded['product_id']}", lua("GET", {}, None)),
        "page": (f"/api/products?limit=20&category={seeded['category']}", lua("GET", {}, None)),
        "me": ("/api/users/me", lua("GET", auth, None)),
        "order": ("/api/orders", lua("POST", {**auth, "Content-Type": "application/json"}, order)),
    }


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise RuntimeError(f"unexpected wrk duration {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(url: str, script: str, connections: int, duration_s: int, threads: int) -> tuple[str, list[str]]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "--timeout", "10s", "--latency",
               "-s", handle.name, url]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    return out, command


def parse(name: str, out: str) -> Result:
    def find(pattern: str) -> str:
        found = re.search(pattern, out, re.MULTILINE)
        if found is None:
            raise RuntimeError(f"unexpected wrk output for {name}:\n{out}")
        return found.group(1)

    rps = float(find(r"^Requests/sec:\s+([\d.]+)"))
    p50 = _ms(find(r"^\s+50%\s+(\S+)$"))
    p99 = _ms(find(r"^\s+99%\s+(\S+)$"))
    total = int(find(r"^\s+(\d+) requests in"))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sockets.groups()) if sockets else 0)
    target_rps, target_p99 = TARGETS[name]
    return Result(name, rps, p50, p99, total, errors, target_rps, target_p99)


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        model = found.group(1).strip() if found else model
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def markdown(results: list[Result], commands: dict[str, list[str]], connections: int, duration_s: int,
             shares: dict[str, dict[str, float]]) -> str:
    rows = ["| scenario | req/s | p50 ms | p99 ms | requests | errors | load avg | target | met |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        target = f">= {r.target_rps:.0f} req/s" + (f", p99 <= {r.target_p99_ms:.0f} ms" if r.target_p99_ms else "")
        rows.append(f"| {r.scenario} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.requests} | "
                    f"{r.errors} | {r.load_average} | {target} | {'yes' if r.meets_target else 'no'} |")
    lines = [f"Machine: {machine()}. {connections} connections, {duration_s} s per scenario.", "", *rows, ""]
    lines += ["wrk commands:", "", "```", *(" ".join(c) for c in commands.values()), "```"]
    if shares:
        lines += ["", "CPU per request (microseconds; in brackets: cores used on average):", "",
                  *cpu_table(results, shares, duration_s)]
    for r in results:
        if r.started_idle is False:
            lines.append(f"\n**{r.scenario} started on a busy stack** (the work before it had not finished within "
                         "--settle): it shared the cores with that work")
        if r.settle_s is not None:
            spent = sorted((r.deferred_us_per_request or {}).items(), key=lambda kv: -kv[1])
            state = f"idle again after {r.settle_s} s" if r.settled else f"still busy after {r.settle_s} s"
            lines.append(f"\nafter {r.scenario}: {state}; CPU meanwhile per request: "
                         + ", ".join(f"{k} {v:.0f} us" for k, v in spent if v >= 1))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="gateway base URL")
    parser.add_argument("-c", "--connections", type=int, default=64)
    parser.add_argument("-d", "--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("-t", "--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), help="run these scenarios only")
    parser.add_argument("--admin-email")
    parser.add_argument("--admin-password")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of markdown")
    parser.add_argument("--cpu", action="store_true", help="CPU per request of every stack component and wrk")
    parser.add_argument("--settle", type=float, metavar="SECONDS",
                        help="before the first and after every scenario, wait (at most this long) until the "
                             "stack is idle, and report the CPU used meanwhile per request of the scenario")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    seeded = seed(args.url, *credentials(args))
    results: list[Result] = []
    commands: dict[str, list[str]] = {}
    shares: dict[str, dict[str, float]] = {}
    components = stack_components() if args.cpu or args.settle else {}
    meter = CpuMeter(components) if args.cpu else None
    idle: bool | None = None
    if args.settle:
        waited, idle, _ = settle(components, args.settle)
        if not idle:
            print(f"warning: the stack is still busy after {waited:.0f} s", file=sys.stderr)
    for name, (path, script) in scenarios(seeded).items():
        if args.only and name not in args.only:
            continue
        if meter is not None:
            meter.start()
        out, command = run_wrk(args.url.rstrip("/") + path, script, args.connections, args.duration, args.threads)
        commands[name] = command
        result = parse(name, out)
        result.load_average = round(os.getloadavg()[0], 1)
        result.started_idle = idle
        if meter is not None:
            shares[name] = meter.stop()
            result.cpu_us_per_request = {k: round(v * 1e6 / max(result.requests, 1), 1)
                                         for k, v in shares[name].items()}
        if args.settle:
            waited, result.settled, spent = settle(components, args.settle)
            idle = result.settled
            result.settle_s = round(waited, 1)
            result.deferred_us_per_request = {k: round(v * 1e6 / max(result.requests, 1), 1)
                                              for k, v in spent.items() if v > 0}
        results.append(result)
    if args.json:
        print(json.dumps({"machine": machine(), "connections": args.connections, "duration_s": args.duration,
                          "results": [asdict(r) | {"meets_target": r.meets_target} for r in results]}, indent=2))
    else:
        print(markdown(results, commands, args.connections, args.duration, shares))
    return 0


if __name__ == "__main__":
    sys.exit(main())
