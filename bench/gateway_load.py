"""Load benchmark of the api-gateway with wrk on loopback (repeatable: it seeds its own data).

Scenarios (each through the gateway, ``-c`` connections, ``-d`` seconds):
  product   GET  /api/products/{id}
  page      GET  /api/products?limit=20&category=<bench category>   (20-item page)
  me        GET  /api/users/me                                    (bearer token)
  order     POST /api/orders                                       (bearer token, 1 unit)

Usage (a running stack; credentials from ``ecomctl credentials --json`` or flags):
  python bench/gateway_load.py --url http://127.0.0.1:8000 [-c 64] [-d 15] [-t 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

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
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def markdown(results: list[Result], commands: dict[str, list[str]], connections: int, duration_s: int) -> str:
    rows = ["| scenario | req/s | p50 ms | p99 ms | requests | errors | load avg | target | met |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        target = f">= {r.target_rps:.0f} req/s" + (f", p99 <= {r.target_p99_ms:.0f} ms" if r.target_p99_ms else "")
        rows.append(f"| {r.scenario} | {r.requests_per_s:.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.requests} | "
                    f"{r.errors} | {r.load_average} | {target} | {'yes' if r.meets_target else 'no'} |")
    lines = [f"Machine: {machine()}. {connections} connections, {duration_s} s per scenario.", "", *rows, ""]
    lines += ["wrk commands:", "", "```", *(" ".join(c) for c in commands.values()), "```"]
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
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("error: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    seeded = seed(args.url, *credentials(args))
    results: list[Result] = []
    commands: dict[str, list[str]] = {}
    for name, (path, script) in scenarios(seeded).items():
        if args.only and name not in args.only:
            continue
        out, command = run_wrk(args.url.rstrip("/") + path, script, args.connections, args.duration, args.threads)
        commands[name] = command
        result = parse(name, out)
        result.load_average = round(os.getloadavg()[0], 1)
        results.append(result)
    if args.json:
        print(json.dumps({"machine": machine(), "connections": args.connections, "duration_s": args.duration,
                          "results": [asdict(r) | {"meets_target": r.meets_target} for r in results]}, indent=2))
    else:
        print(markdown(results, commands, args.connections, args.duration))
    return 0


if __name__ == "__main__":
    sys.exit(main())
