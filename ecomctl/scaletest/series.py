"""Response-time figures of a group of requests: count, failures and percentiles.

Used by the load generator (per second, per stage, whole run) and nothing else computes them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

ALL = "all"


def percentile(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Bucket:
    """Requests of one span of time, by endpoint group (and ``all``)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, group: str, response_ms: float, failed: bool) -> None:
        for key in (group, ALL):
            self.times[key].append(response_ms)
            if failed:
                self.failures[key] += 1

    def figures(self, seconds: float | None = None) -> dict[str, dict[str, float]]:
        out = {}
        for group, times in self.times.items():
            ordered = sorted(times)
            row = {
                "requests": len(ordered), "failures": self.failures.get(group, 0),
                "p50_ms": round(percentile(ordered, 0.50), 1), "p95_ms": round(percentile(ordered, 0.95), 1),
                "p99_ms": round(percentile(ordered, 0.99), 1),
            }
            if seconds:
                row["rps"] = round(len(ordered) / seconds, 2)
            out[group] = row
        return out
