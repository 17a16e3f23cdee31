"""Hourly and daily cost of the resources a preview collected, from ``prices.toml``.

The price table lives next to this module (with where and when its prices were taken); this
module only applies it. A resource of a priced type whose size has no price is listed as
*unpriced*, never counted as free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecomctl.cloud.offline import Resource

PRICES = Path(__file__).with_name("prices.toml")


@dataclass(frozen=True)
class CostLine:
    resource: str  # "<type> <name>"
    what: str
    hourly_usd: float


@dataclass(frozen=True)
class Estimate:
    lines: tuple[CostLine, ...]
    unpriced: tuple[str, ...]  # "<type> <name>: <what> (<key>=<value>)"
    taken: str
    source: str
    regions: str
    not_included: str = ""

    @property
    def hourly_usd(self) -> float:
        return round(sum(line.hourly_usd for line in self.lines), 4)

    @property
    def daily_usd(self) -> float:
        return round(self.hourly_usd * 24, 2)

    @property
    def monthly_usd(self) -> float:
        return round(self.hourly_usd * 730, 2)

    def as_dict(self) -> dict[str, Any]:
        return {
            "hourly_usd": self.hourly_usd,
            "daily_usd": self.daily_usd,
            "monthly_usd": self.monthly_usd,
            "currency": "USD",
            "prices_taken": self.taken,
            "prices_source": self.source,
            "regions": self.regions,
            "not_included": self.not_included,
            "lines": [{"resource": x.resource, "what": x.what, "hourly_usd": round(x.hourly_usd, 4)}
                      for x in self.lines],
            "unpriced": list(self.unpriced),
        }


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def estimate(resources: Sequence[Resource], table: Mapping[str, Any] | None = None) -> Estimate:
    prices = load_prices() if table is None else table
    meta = prices["meta"]
    per_month = float(meta.get("hours_per_month", 730))
    items = prices.get("item", [])
    lines: list[CostLine] = []
    unpriced: list[str] = []
    for res in resources:
        for item in (i for i in items if i["type"] == res.type and _matches(res, i.get("match", {}))):
            label = f"{res.type} {res.name}"
            count = _number(res.get(item["count"], 1) if "count" in item else 1) + item.get("count_extra", 0)
            factor = 2.0 if "double_if" in item and res.get(item["double_if"]) is True else 1.0
            hourly = 0.0
            if "hourly_usd" in item:
                hourly = float(item["hourly_usd"])
            elif "key" in item:
                key_value = res.get(item["key"])
                price = item.get("prices", {}).get(str(key_value))
                if price is None:
                    unpriced.append(f"{label}: {item['what']} ({item['key']}={key_value})")
                    continue
                hourly = float(price)
            if "monthly_per_unit" in item:
                units = _number(res.get(item["units"], 0)) if "units" in item else 1.0
                hourly += float(item["monthly_per_unit"]) * units / per_month
            lines.append(CostLine(label, item["what"], hourly * count * factor))
    return Estimate(tuple(lines), tuple(unpriced), str(meta["taken"]), str(meta["source"]),
                    str(meta.get("regions", "")), str(meta.get("not_included", "")))


def _matches(res: Resource, wanted: Mapping[str, Any]) -> bool:
    return all(res.get(path) == value for path, value in wanted.items())


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
