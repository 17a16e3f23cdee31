"""One scale test: the data, the load generator, CPU sampling, the order check, the verdict.

:func:`run` is what ``ecomctl scale-test`` calls; it reports progress through callbacks and
returns a :class:`RunResult` whatever happens after the load started (Ctrl-C included: the load
stops and the result holds what ran). Errors before that raise :class:`ScaleTestError` (exit 2).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ecomctl.errors import ScaleTestError
from ecomctl.scaletest import cpu, dataset, server
from ecomctl.scaletest.kube import KubeApi, KubeWatcher, scaling
from ecomctl.scaletest.profiles import Profile
from ecomctl.scaletest.thresholds import Check, Threshold, evaluate, orders_check

LOAD_GENERATOR = "load generator"
SETTLE_S = server.STEP_S + 5  # the follow-on work finishes; its figures reach Prometheus's next scrape


@dataclass(frozen=True)
class Target:
    """Where the load goes: the gateway, the admin login, and (local stack) each component's pid."""

    description: str
    url: str
    admin: tuple[str, str]
    components: dict[str, int] = field(default_factory=dict)
    kube: KubeApi | None = None  # a cloud stack's cluster: HPA replicas and nodes over the run
    prometheus_url: str | None = None  # the stack's Prometheus: the server side of the run


@dataclass
class RunResult:
    profile: Profile
    target: Target
    thresholds: list[Threshold]
    started_at: str = ""
    ticks: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    # per tick after the first: {"t", "dt", "seconds": {component: CPU seconds used over those dt seconds}}
    cpu: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    load_generator_cpu_s: float = 0.0
    interrupted: bool = False
    kube: list[dict[str, Any]] = field(default_factory=list)  # samples of HPA replicas and node count
    server: dict[str, Any] | None = None  # what the stack's Prometheus saw (``server.observe``)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def groups(self) -> dict[str, dict[str, float]]:
        return dict(self.final.get("groups", {}))

    @property
    def duration_s(self) -> float:
        return float(self.final.get("duration_s", 0.0))

    @property
    def orders_accepted(self) -> int:
        return len(self.final.get("accepted", []))

    def knee(self) -> dict[str, Any] | None:
        """Step profiles: the highest stage that held every threshold (users, requests/s, orders/s)."""
        held = [s for s in self.stages if s["held"]]
        if not self.profile.step or not held:
            return None
        best = max(held, key=lambda s: s["users"])
        every, orders = best["groups"].get("all", {}), best["groups"].get("orders.create", {})
        seconds = every["requests"] / every["rps"] if every.get("rps") else 0.0
        return {"users": best["users"], "requests_per_s": every.get("rps", 0.0),
                "orders_per_s": round((orders.get("requests", 0) - orders.get("failures", 0)) / seconds, 2)
                if seconds else 0.0,
                "broken_at_users": next((s["users"] for s in self.stages if not s["held"]), None)}

    def cpu_totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for sample in self.cpu:
            for name, seconds in sample["seconds"].items():
                totals[name] = totals.get(name, 0.0) + seconds
        return {k: round(v, 2) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}

    def cpu_per_order_ms(self) -> dict[str, float]:
        """CPU milliseconds per accepted order, per component and for the whole stack (every component
        but the load generator and everything else on the machine), the follow-on work included."""
        if not self.orders_accepted:
            return {}
        totals = self.cpu_totals()
        stack = sum(v for k, v in totals.items() if k not in (LOAD_GENERATOR, cpu.OTHER))
        return {"stack": round(1000 * stack / self.orders_accepted, 2),
                **{k: round(1000 * v / self.orders_accepted, 2) for k, v in totals.items()}}

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": "pass" if self.passed else "fail", "interrupted": self.interrupted,
            "checks": [c.as_dict() for c in self.checks], "profile": self.profile.to_dict(),
            "target": {"description": self.target.description, "url": self.target.url},
            "started_at": self.started_at, "duration_s": self.duration_s, "groups": self.groups,
            "orders": {"accepted": self.orders_accepted, "cancelled": len(self.final.get("cancelled", [])),
                       "per_s": round(self.orders_accepted / self.duration_s, 2) if self.duration_s else 0.0},
            "knee": self.knee(), "stages": self.stages, "ticks": self.ticks,
            "cpu": {"samples": self.cpu, "totals_s": self.cpu_totals(), "per_order_ms": self.cpu_per_order_ms()},
            "load_generator": {"cpu_s": round(self.load_generator_cpu_s, 2),
                               "cores": round(self.load_generator_cpu_s / self.duration_s, 2)
                               if self.duration_s else 0.0},
            "kubernetes": {"samples": self.kube, "hpas": scaling(self.kube)} if self.kube else None,
            "prometheus": self.server,
            "machine": machine(),
        }


def machine() -> dict[str, Any]:
    memory = 0
    with suppress(ValueError, OSError, AttributeError):
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cores": os.cpu_count(), "model": cpu.model(), "memory_gib": round(memory / 2**30, 1),
            "system": platform.platform(), "python": platform.python_version()}


def stored_orders(url: str, admin: tuple[str, str], since: str) -> set[str]:
    """Ids of every order created at or after ``since`` (RFC 3339), read back as the admin."""
    found: set[str] = set()
    with httpx.Client(base_url=url, timeout=30) as api:
        token = api.post("/api/auth/login", json={"email": admin[0], "password": admin[1]}).json()["access_token"]
        headers, cursor = {"Authorization": f"Bearer {token}"}, None
        while True:
            params: dict[str, Any] = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            answer = api.get("/api/orders", params=params, headers=headers)
            answer.raise_for_status()
            page = answer.json()
            fresh = [o for o in page["items"] if o["created_at"] >= since]
            found.update(o["id"] for o in fresh)
            cursor = page.get("next_cursor")
            if not cursor or len(fresh) < len(page["items"]):
                return found


def run(
    profile: Profile,
    thresholds: list[Threshold],
    target: Target,
    progress: Callable[[str], None] = lambda _: None,
    on_tick: Callable[[dict[str, Any], RunResult], None] = lambda _t, _r: None,
    workdir: Path | None = None,
) -> RunResult:
    logged_in = sum(w for k, w in profile.mix.items() if k in ("shopper", "checkout"))
    share = logged_in / max(1, sum(w for k, w in profile.mix.items() if k != "admin"))
    data = dataset.prepare(target.url, target.admin, round(profile.peak_users * share) + 1, progress)
    result = RunResult(profile, target, thresholds)
    workdir = Path(workdir or tempfile.mkdtemp(prefix="ecomctl-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "run.json"
    config.write_text(json.dumps({"url": target.url, "profile": profile.to_dict(),
                                  "thresholds": [t.text for t in thresholds], "dataset": data.as_config()}))
    config.chmod(0o600)  # holds the shoppers' and admin's passwords
    log = workdir / "locust.log"
    result.started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.time()
    meter = cpu.CpuMeter(target.components) if target.components and cpu.available() else None
    progress(f"running profile {profile.name}: up to {profile.peak_users} users for {profile.duration_s:.0f} s")
    watcher = KubeWatcher(target.kube) if target.kube else None
    with open(log, "w") as log_file, watcher or nullcontext():
        worker = subprocess.Popen(
            [sys.executable, "-m", "ecomctl.scaletest.worker", str(config)], stdout=subprocess.PIPE,
            stderr=log_file, text=True, start_new_session=True,
        )
        if meter:
            meter.components[LOAD_GENERATOR] = worker.pid
        try:
            _read(worker, result, meter, on_tick)
        except KeyboardInterrupt:
            result.interrupted = True
            progress("interrupted: stopping the load, then writing the report of what ran")
            worker.send_signal(signal.SIGTERM)
            _read(worker, result, meter, on_tick)
        finally:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    config.unlink(missing_ok=True)
    result.kube = watcher.series if watcher else []
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result.load_generator_cpu_s = (children_after.ru_utime + children_after.ru_stime
                                   - children_before.ru_utime - children_before.ru_stime)
    if not result.final:
        tail = log.read_text(errors="replace").strip().splitlines()[-5:]
        raise ScaleTestError(f"the load generator stopped without a result (exit {worker.returncode})",
                             details="\n".join(tail) or None, hint=f"its log: {log}")
    result.interrupted = result.interrupted or bool(result.final.get("interrupted"))
    if meter or target.prometheus_url:
        progress(f"counting the follow-on work for {SETTLE_S:.0f} s after the load (events, notifications)")
        time.sleep(SETTLE_S)
        if meter and result.ticks:  # the work the run's orders caused after the load stopped counts too
            meter.components.pop(LOAD_GENERATOR, None)
            dt = time.monotonic() - meter.since
            result.cpu.append({"t": round(result.ticks[-1]["t"] + dt, 3), "dt": round(dt, 3), "after_load": True,
                               "seconds": {k: round(v, 3) for k, v in meter.read().items()}})
        if target.prometheus_url:
            result.server = server.observe(target.prometheus_url, began, time.time())
    progress("checking that every accepted order is stored")
    stored = stored_orders(target.url, target.admin, result.started_at)
    groups = result.groups
    if profile.step:  # a step profile's verdict: did any step hold (the knee exists)?
        knee = result.knee()
        result.checks = [Check("capacity knee", knee is not None,
                               f"{knee['users']} users, {knee['requests_per_s']} req/s" if knee
                               else "the first step already broke a threshold")]
    else:
        result.checks = evaluate(thresholds, groups)
    result.checks.append(orders_check(set(result.final.get("accepted", [])), stored))
    return result


def _read(worker: subprocess.Popen[str], result: RunResult, meter: cpu.CpuMeter | None,
          on_tick: Callable[[dict[str, Any], RunResult], None]) -> None:
    assert worker.stdout is not None
    for line in worker.stdout:
        record = json.loads(line)
        kind = record.pop("type")
        if kind == "tick":
            if meter and result.ticks:  # from the first tick on: the load generator's start is not the run's
                used = meter.read(restart=True)
                dt = record["t"] - result.ticks[-1]["t"]
                result.cpu.append({"t": record["t"], "dt": round(dt, 3),
                                   "seconds": {k: round(v, 3) for k, v in used.items()}})
            elif meter:
                meter.start()
            result.ticks.append(record)
            on_tick(record, result)
        elif kind == "stage":
            result.stages.append(record)
        elif kind == "final":
            result.final = record


def resolve_target(stack: str | None, url: str | None, environ: dict[str, str] | None = None) -> Target:
    """The gateway, admin login and components of ``--stack`` (default: the local stack) or ``--url``,
    found the way ``ecomctl demo`` finds them (``ecomctl.demo.target``). With ``--url`` the admin
    login comes from ``ECOMCTL_ADMIN_EMAIL`` / ``ECOMCTL_ADMIN_PASSWORD``.
    """
    from ecomctl.demo import target as where
    from ecomctl.settings import LOCAL_STACK, Settings

    if url and stack:
        raise ScaleTestError("give --stack or --url, not both")
    if url or (stack and stack != LOCAL_STACK):
        found = where.url_target(url) if url else where.cloud_target(str(stack))
        if not found.admin_email or not found.admin_password:
            raise ScaleTestError("the scale test needs the stack's admin login to seed its data",
                                 hint="set ECOMCTL_ADMIN_EMAIL and ECOMCTL_ADMIN_PASSWORD")
        return Target(url or f"stack {stack}", found.gateway_url, (found.admin_email, found.admin_password))
    from ecomctl.local.platform import LocalPlatform

    platform = LocalPlatform(Settings.load(environ))
    if not platform.created:
        raise ScaleTestError("the local stack was never started", hint="ecomctl up")
    state = platform.status()
    if not state.healthy:
        bad = ", ".join(c.name for c in state.components if c.state != "healthy")
        raise ScaleTestError(f"the local stack is not healthy ({bad})", hint="ecomctl up; ecomctl status")
    found = where.local_target(platform)
    assert found.admin_email and found.admin_password  # a created local stack has its credentials
    components = {c.name: c.pid for c in state.components if c.pid}
    return Target("the local stack", found.gateway_url, (found.admin_email, found.admin_password), components,
                  prometheus_url=platform.prometheus_url)
