"""What the demo has seen: client-side latencies, orders, windows, notifications, uploads, health.

One mutable ``DemoStats`` is filled by the shoppers and watchers (all on one event loop) and read
by the dashboard and the summary; ``summary()`` is the ``--json`` object.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

RATE_WINDOW_S = 10.0


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-quantile (0..1) by nearest rank, or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


@dataclass
class GroupStats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    retries: int = 0
    recent: deque[float] = field(default_factory=deque)  # monotonic times of the last RATE_WINDOW_S

    def rps(self, now: float) -> float:
        while self.recent and self.recent[0] < now - RATE_WINDOW_S:
            self.recent.popleft()
        return len(self.recent) / RATE_WINDOW_S

    def as_dict(self, elapsed_s: float) -> dict[str, Any]:
        return {"requests": len(self.latencies), "errors": self.errors, "retries": self.retries,
                "rps": round(len(self.latencies) / elapsed_s, 2) if elapsed_s > 0 else 0.0,
                "p50_ms": _ms(percentile(self.latencies, 0.50)), "p95_ms": _ms(percentile(self.latencies, 0.95)),
                "p99_ms": _ms(percentile(self.latencies, 0.99))}


@dataclass(frozen=True)
class WindowSeen:
    """A window as the analytics API served it, and when the demo first read it."""

    figures: dict[str, Any]  # the API's window object, as served
    visible_after_s: float  # from the window's end to the demo first reading it

    @property
    def start(self) -> str:
        return str(self.figures["window_start"])

    def as_dict(self) -> dict[str, Any]:
        return {**self.figures, "visible_after_s": round(self.visible_after_s, 1)}


@dataclass(frozen=True)
class UploadSeen:
    key: str
    status: str
    lines: int
    words: int
    processed_after_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "status": self.status, "lines": self.lines, "words": self.words,
                "processed_after_s": round(self.processed_after_s, 1)}


@dataclass
class DemoStats:
    gateway_url: str
    duration_s: float | None
    rate: float
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    ended_at: datetime | None = None
    groups: dict[str, GroupStats] = field(default_factory=dict)
    shoppers: int = 0
    journeys: int = 0
    orders_placed: int = 0
    orders_cancelled: int = 0
    revenue: Decimal = Decimal("0.00")
    revenue_cancelled: Decimal = Decimal("0.00")
    order_times: deque[float] = field(default_factory=deque)
    windows: dict[str, WindowSeen] = field(default_factory=dict)
    notification_delays: list[float] = field(default_factory=list)
    uploads: list[UploadSeen] = field(default_factory=list)
    top_products: list[tuple[str, int, str]] = field(default_factory=list)  # name, units, revenue
    health: list[tuple[str, str]] = field(default_factory=list)
    last_errors: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    narration: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    on_narrate: Callable[[str], None] | None = None

    # -- recording ---------------------------------------------------------------------------
    def record(self, group: str, seconds: float, error: str | None) -> None:
        stats = self.groups.setdefault(group, GroupStats())
        stats.latencies.append(seconds)
        stats.recent.append(time.monotonic())
        if error is not None:
            stats.errors += 1
            self.last_errors.append(error)

    def retried(self, group: str) -> None:
        self.groups.setdefault(group, GroupStats()).retries += 1

    def order_placed(self, total: str) -> None:
        self.orders_placed += 1
        self.revenue += Decimal(total)
        self.order_times.append(time.monotonic())

    def order_cancelled(self, total: str) -> None:
        self.orders_cancelled += 1
        self.revenue_cancelled += Decimal(total)

    def window_seen(self, window: dict[str, Any], now: datetime) -> WindowSeen | None:
        """Record a window of the run the first time it is read; None when already known."""
        start = str(window["window_start"])
        if start in self.windows:
            return None
        end = datetime.fromisoformat(str(window["window_end"]).replace("Z", "+00:00"))
        seen = WindowSeen(dict(window), (now - end).total_seconds())
        self.windows[start] = seen
        return seen

    def narrate(self, sentence: str) -> None:
        line = f"{datetime.now(UTC):%H:%M:%S}  {sentence}"
        self.narration.append(line)
        if self.on_narrate is not None:
            self.on_narrate(line)

    # -- reading -----------------------------------------------------------------------------
    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def errors(self) -> int:
        return sum(g.errors for g in self.groups.values())

    def orders_per_minute(self) -> int:
        now = time.monotonic()
        while self.order_times and self.order_times[0] < now - 60:
            self.order_times.popleft()
        return len(self.order_times)

    def summary(self) -> dict[str, Any]:
        elapsed = self.elapsed_s
        delays = self.notification_delays
        return {
            "gateway": self.gateway_url,
            "started_at": self.started_at.isoformat().replace("+00:00", "Z"),
            "ended_at": (self.ended_at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
            "duration_s": round(elapsed, 1),
            "rate": self.rate,
            "shoppers": self.shoppers,
            "journeys": self.journeys,
            "orders_placed": self.orders_placed,
            "orders_cancelled": self.orders_cancelled,
            "revenue": f"{self.revenue:.2f}",
            "revenue_cancelled": f"{self.revenue_cancelled:.2f}",
            "errors": self.errors,
            "last_errors": list(self.last_errors),
            "endpoints": {name: g.as_dict(elapsed) for name, g in sorted(self.groups.items())},
            "windows": [w.as_dict() for _, w in sorted(self.windows.items())],
            "notification_delays_s": [round(d, 3) for d in delays],
            "notifications": {"count": len(delays), "p50_s": _round(percentile(delays, 0.5)),
                              "max_s": _round(max(delays) if delays else None)},
            "uploads": [u.as_dict() for u in self.uploads],
            "top_products": [{"name": n, "units": u, "revenue": r} for n, u, r in self.top_products],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
