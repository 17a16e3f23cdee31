"""What the platform's own Prometheus saw during a run: the dashboard's panels over the run, and
the follow-on figures the load generator cannot see (notification delay, consumer lag, outbox age).

The series come from the stack's Prometheus (the local one, ``ecomctl outputs``' URL), never from
a second collector: the panels are the dashboard's own queries (``blueprint.observability``).
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from blueprint.observability import (
    GROUP_LAG,
    NOTIFICATION_DELAY_BUCKET,
    ORDERS_CREATED,
    OUTBOX_AGE,
    SCRAPE_INTERVAL_S,
    panels,
)
from ecomctl.local import prometheus

STEP_S = SCRAPE_INTERVAL_S


def _legend(template: str, labels: dict[str, str]) -> str:
    text = template
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def panel_series(base_url: str, start: float, end: float) -> list[dict[str, Any]]:
    """Each dashboard panel (the local ones) over ``[start, end]``: ``{title, unit, series:
    {legend: [[seconds since start, value], ...]}}``; a panel without data keeps an empty ``series``."""
    out = []
    for panel in panels():
        series: dict[str, list[list[float]]] = {}
        for promql, legend in panel.targets:
            for item in prometheus.query_range(base_url, promql, start, end, STEP_S):
                name = _legend(legend, item.get("metric", {}))
                points = [[round(float(t) - start, 1), float(v)] for t, v in item["values"] if v not in ("NaN", "+Inf")]
                if points:
                    series[name] = points
        out.append({"title": panel.title, "unit": panel.unit, "series": series})
    return out


def _scalar(base_url: str, promql: str, at: float) -> float | None:
    with suppress(OSError, ValueError, KeyError, IndexError):
        result = prometheus.query(base_url, promql, at=at)
        value = float(result[0]["value"][1]) if result else None
        return None if value is None or value != value else round(value, 4)  # NaN: no data
    return None


def figures(base_url: str, start: float, end: float) -> dict[str, float | None]:
    """Whole-run figures of the server side (``None`` where Prometheus had no data)."""
    span = f"{max(STEP_S, round(end - start))}s"
    return {
        "orders_created": _delta(base_url, f"sum({ORDERS_CREATED})", start, end),
        "notification_delay_p95_s": _scalar(
            base_url, f"histogram_quantile(0.95, sum by (le) (increase({NOTIFICATION_DELAY_BUCKET}[{span}])))", end),
        "consumer_lag_max": _scalar(base_url, f"max(max_over_time({GROUP_LAG}[{span}]))", end),
        "outbox_oldest_age_max_s": _scalar(base_url, f"max(max_over_time({OUTBOX_AGE}[{span}]))", end),
    }


def _delta(base_url: str, promql: str, start: float, end: float) -> float | None:
    """A counter's growth between two scrapes (``start``'s value is the last scrape before it)."""
    before, after = _scalar(base_url, promql, start), _scalar(base_url, promql, end)
    return None if before is None or after is None else round(after - before, 4)


def observe(base_url: str, start: float, end: float) -> dict[str, Any]:
    """``{"url", "figures", "panels"}``, or ``{"url", "error"}`` when Prometheus cannot answer."""
    try:
        return {"url": base_url, "figures": figures(base_url, start, end),
                "panels": panel_series(base_url, start, end)}
    except (OSError, ValueError) as exc:
        return {"url": base_url, "error": f"{type(exc).__name__}: {exc}"}
