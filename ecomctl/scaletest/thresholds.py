"""Thresholds and the verdict: ``[GROUP.]METRIC=VALUE`` strings such as ``p95=300ms``,
``orders.create.p99=1s`` or ``errors=1%``.

Metrics: ``p50``/``p95``/``p99`` (latency, ``ms`` or ``s``) and ``errors`` (share of failed
requests, ``%``). Without a group a threshold holds over every request of the run; with one, over
that endpoint group (see :mod:`ecomctl.scaletest.shoppers`). "No order lost" is always checked:
every order the load generator saw accepted must exist in the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ecomctl.errors import ScaleTestError
from ecomctl.scaletest.series import ALL

_PATTERN = re.compile(r"^(?:(?P<group>[a-z][a-z0-9_.-]*)\.)?(?P<metric>p50|p95|p99|errors)=(?P<value>[0-9.]+)"
                      r"(?P<unit>ms|s|%)?$")



@dataclass(frozen=True)
class Threshold:
    group: str  # ALL or an endpoint group
    metric: str  # p50 | p95 | p99 | errors
    limit: float  # milliseconds for latencies, a fraction (0.01 = 1%) for errors
    text: str

    @classmethod
    def parse(cls, text: str) -> Threshold:
        found = _PATTERN.match(text.strip().replace(" ", ""))
        if not found:
            raise ScaleTestError(f"cannot read threshold {text!r}",
                                 hint="write [GROUP.]p50|p95|p99=<n>ms|s or [GROUP.]errors=<n>%, e.g. p95=300ms")
        metric, unit, value = found["metric"], found["unit"], float(found["value"])
        if metric == "errors":
            if unit not in (None, "%"):
                raise ScaleTestError(f"threshold {text!r}: errors are a percentage, e.g. errors=1%")
            limit = value / 100
        else:
            if unit == "%":
                raise ScaleTestError(f"threshold {text!r}: a latency is in ms or s, e.g. p95=300ms")
            limit = value * 1000 if unit == "s" else value
        return cls(found["group"] or ALL, metric, limit, text.strip())

    def figure(self, groups: Mapping[str, Mapping[str, float]]) -> float | None:
        """This threshold's figure in per-group totals (``None``: the group saw no request)."""
        stats = groups.get(self.group)
        if not stats or not stats.get("requests"):
            return None
        if self.metric == "errors":
            return stats["failures"] / stats["requests"]
        return stats[f"{self.metric}_ms"]

    def holds(self, figure: float | None) -> bool:
        return figure is None or figure <= self.limit

    def describe(self, figure: float | None) -> str:
        if figure is None:
            shown = "no requests"
        elif self.metric == "errors":
            shown = f"{figure * 100:.2f}%"
        else:
            shown = f"{figure:.0f} ms"
        limit = f"{self.limit * 100:g}%" if self.metric == "errors" else f"{self.limit:g} ms"
        return f"{self.group} {self.metric} {shown} (limit {limit})"


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


def parse_all(texts: Iterable[str]) -> list[Threshold]:
    return [Threshold.parse(t) for t in texts]


def evaluate(thresholds: Iterable[Threshold], groups: Mapping[str, Mapping[str, float]]) -> list[Check]:
    checks = []
    for threshold in thresholds:
        figure = threshold.figure(groups)
        checks.append(Check(threshold.text, threshold.holds(figure), threshold.describe(figure)))
    return checks


def orders_check(accepted: set[str], stored: set[str]) -> Check:
    lost = accepted - stored
    detail = (f"{len(accepted)} accepted, all stored" if not lost
              else f"{len(lost)} of {len(accepted)} accepted orders not in the store (e.g. {sorted(lost)[0]})")
    return Check("no order lost", not lost, detail)
