"""Prometheus: Debian's server scraping the stack (targets and rules from ``blueprint.observability``).

Its configuration and rule file live in the stack's ``run/`` directory, its time series in
``data/prometheus`` with a bounded retention. The spec carries a digest of both files, so a change
of the topology or of the rules restarts it with the new files.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from blueprint import observability
from ecomctl.local import probes, system
from ecomctl.local.context import HOST, LocalContext
from ecomctl.local.spec import ComponentSpec
from ecomctl.platform import Alert, Backlog

NAME = "prometheus"
RETENTION_TIME = "2d"
RETENTION_SIZE = "256MB"


def install_hint() -> str:
    return "apt-get install -y prometheus (macOS: brew install prometheus)"


def ensure_installed(progress: Callable[[str], None]) -> tuple[str, str]:
    """The server and promtool, installing Debian's package when missing (as root)."""
    server, promtool = system.ensure_commands(("prometheus", "promtool"), "prometheus", install_hint(), progress)
    return server, promtool


def config_path(ctx: LocalContext) -> Path:
    return ctx.layout.run / "prometheus.yml"


def rules_path(ctx: LocalContext) -> Path:
    return ctx.layout.run / "prometheus-rules.yml"


def render_rules(ctx: LocalContext) -> str:
    return str(yaml.safe_dump({"groups": observability.rule_groups(ctx.topology)}, sort_keys=False, width=200))


def render_config(ctx: LocalContext) -> str:
    ports = dict(ctx.settings.ports)
    config = observability.prometheus_config(ctx.topology, ports, HOST, str(rules_path(ctx)), ctx.port(NAME))
    return str(yaml.safe_dump(config, sort_keys=False, width=200))


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    ensure_installed(progress)
    ctx.layout.component_data(NAME).mkdir(parents=True, exist_ok=True)
    rules_path(ctx).write_text(render_rules(ctx))
    config_path(ctx).write_text(render_config(ctx))


def spec(ctx: LocalContext) -> ComponentSpec:
    server = system.which("prometheus") or "prometheus"
    port = ctx.port(NAME)
    base = f"http://{HOST}:{port}"
    digest = hashlib.sha256((render_config(ctx) + render_rules(ctx)).encode()).hexdigest()[:16]
    return ComponentSpec(
        name=NAME,
        kind="monitor",
        requires=(),
        command=(
            server, f"--config.file={config_path(ctx)}",
            f"--storage.tsdb.path={ctx.layout.component_data(NAME)}",
            f"--storage.tsdb.retention.time={RETENTION_TIME}",
            f"--storage.tsdb.retention.size={RETENTION_SIZE}",
            f"--web.listen-address={HOST}:{port}", "--log.level=warn",
        ),
        env={"ECOMCTL_PROMETHEUS_FILES": digest},
        cwd=ctx.layout.component_data(NAME),
        probe=lambda: probes.http_status(f"{base}/-/ready", timeout=2.0),
        ports=(port,),
        url=base,
        start_seconds=1,
        stop_wait_seconds=10,
        description="Prometheus: scrapes services and workers, evaluates the alert rules",
    )


def _get(url: str, timeout: float) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body = json.loads(response.read())
    if body.get("status") != "success":
        raise ValueError(body.get("error", "Prometheus refused the request"))
    return body["data"]


def query(base_url: str, promql: str, timeout: float = 5.0, at: float | None = None) -> list[dict[str, Any]]:
    """The result vector of an instant query, now or ``at`` (Unix seconds); raises
    ``OSError``/``ValueError`` when it cannot."""
    params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
    data = _get(f"{base_url}/api/v1/query?{urllib.parse.urlencode(params)}", timeout)
    return list(data["result"])


def query_range(base_url: str, promql: str, start: float, end: float, step_s: float,
                timeout: float = 10.0) -> list[dict[str, Any]]:
    """The result matrix of a range query: ``[{"metric": labels, "values": [[t, "v"], ...]}]``."""
    params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"}
    data = _get(f"{base_url}/api/v1/query_range?{urllib.parse.urlencode(params)}", timeout)
    return list(data["result"])


def firing_alerts(base_url: str, timeout: float = 2.0) -> list[Alert]:
    """Alerts in state ``firing`` (pending ones have not lasted their ``for:`` yet)."""
    alerts: list[dict[str, Any]] = _get(f"{base_url}/api/v1/alerts", timeout)["alerts"]
    return [
        Alert(a["labels"].get("alertname", "?"), a["labels"].get("severity", ""),
                    a.get("annotations", {}).get("summary", ""), a.get("activeAt", ""))
        for a in alerts if a.get("state") == "firing"
    ]


def backlog(base_url: str, timeout: float = 2.0) -> Backlog:
    """Events waiting in the outbox, the oldest one's age, and each consumer group's lag, as last scraped."""

    def values(promql: str) -> list[tuple[dict[str, str], float]]:
        return [(r["metric"], float(r["value"][1])) for r in query(base_url, promql, timeout)]

    waiting = values(f"sum({observability.OUTBOX_BACKLOG})")
    oldest = values(f"max({observability.OUTBOX_AGE})")
    lag = values(f"sum by (group) ({observability.CONSUMER_LAG})")
    return Backlog(outbox_events=int(waiting[0][1]) if waiting else 0,
                   outbox_oldest_s=round(oldest[0][1], 1) if oldest else 0.0,
                   consumer_lag={labels.get("group", "?"): int(value) for labels, value in lag})
