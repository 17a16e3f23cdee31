"""Load profiles: plain data a user can copy, change and pass back with ``--profile FILE``.

A profile is a list of stages (hold ``users`` simulated shoppers for ``duration_s`` seconds,
reaching them at ``spawn_rate`` users per second), a mix of user behaviours (weights of the
classes in :mod:`ecomctl.scaletest.shoppers`), think times and default thresholds. ``capacity``
is a ``step`` profile: its stages are tried in order and the run stops at the first one that
breaks a threshold; the highest step that held every threshold is the knee.

``ecomctl scale-test --show-profile NAME`` prints a profile as JSON, the format ``--profile``
reads back from a file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ecomctl.errors import ScaleTestError

#: The user behaviours of :mod:`ecomctl.scaletest.shoppers`, by the names a profile's mix uses.
BEHAVIOURS = ("browser", "shopper", "admin", "checkout")


@dataclass(frozen=True)
class Stage:
    duration_s: float
    users: int
    spawn_rate: float


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    stages: tuple[Stage, ...]
    mix: dict[str, int] = field(default_factory=lambda: {"browser": 6, "shopper": 3, "admin": 1})
    think_time_s: tuple[float, float] = (1.0, 3.0)
    thresholds: tuple[str, ...] = ("p95=500ms", "errors=1%")
    step: bool = False  # capacity: stop at the first stage that breaks a threshold

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.stages)

    @property
    def peak_users(self) -> int:
        return max(s.users for s in self.stages)

    def scaled(self, users: int | None = None, duration_s: float | None = None) -> Profile:
        """The same shape with its peak at ``users`` and/or lasting ``duration_s`` in all."""
        stages = self.stages
        if users is not None:
            if users < 1:
                raise ScaleTestError("--users must be at least 1")
            factor = users / self.peak_users
            stages = tuple(replace(s, users=max(1, round(s.users * factor)),
                                   spawn_rate=max(0.5, s.spawn_rate * factor)) for s in stages)
        if duration_s is not None:
            if duration_s <= 0:
                raise ScaleTestError("--duration must be positive")
            factor = duration_s / self.duration_s
            stages = tuple(replace(s, duration_s=max(1.0, s.duration_s * factor)) for s in stages)
        return replace(self, stages=stages)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["stages"] = [asdict(s) for s in self.stages]
        out["think_time_s"] = list(self.think_time_s)
        out["thresholds"] = list(self.thresholds)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        try:
            stages = tuple(Stage(float(s["duration_s"]), int(s["users"]), float(s["spawn_rate"]))
                           for s in data["stages"])
            mix = {str(k): int(v) for k, v in data.get("mix", {"browser": 6, "shopper": 3, "admin": 1}).items()}
            think = data.get("think_time_s", [1.0, 3.0])
            profile = cls(
                name=str(data["name"]), description=str(data.get("description", "")), stages=stages, mix=mix,
                think_time_s=(float(think[0]), float(think[1])),
                thresholds=tuple(str(t) for t in data.get("thresholds", ("p95=500ms", "errors=1%"))),
                step=bool(data.get("step", False)),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ScaleTestError(f"not a valid profile: {exc!r}",
                              hint="start from: ecomctl scale-test --show-profile smoke") from None
        unknown = set(profile.mix) - set(BEHAVIOURS)
        if unknown or not profile.stages or not any(profile.mix.values()):
            raise ScaleTestError(f"not a valid profile: mix must weigh some of {', '.join(BEHAVIOURS)}"
                              f"{' (unknown: ' + ', '.join(sorted(unknown)) + ')' if unknown else ''} "
                              "and stages must not be empty")
        return profile


def _ramp(*points: tuple[float, int]) -> tuple[Stage, ...]:
    """Stages through (seconds, users) points, each reached linearly from the one before."""
    stages, before = [], 0
    for seconds, users in points:
        rate = max(0.5, abs(users - before) / max(seconds, 1.0))
        stages.append(Stage(seconds, users, round(rate, 2)))
        before = users
    return tuple(stages)


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("smoke", "a few shoppers for about 30 s: is everything answering?",
                _ramp((5, 6), (25, 6)), think_time_s=(0.5, 1.5), thresholds=("p95=1s", "errors=1%")),
        Profile("ramp", "the seed's load test, time-compressed: 10 -> 50 -> 100 users, hold, ramp down",
                _ramp((20, 10), (30, 50), (30, 100), (60, 100), (20, 0))),
        Profile("stress", "the seed's stress test re-expressed with authentication: each shopper orders one of "
                "100 products, lists products, sleeps 0.5 s; ramp to 200 users in 30 s, hold 60 s",
                _ramp((30, 200), (60, 200)), mix={"checkout": 1}, think_time_s=(0.5, 0.5),
                thresholds=("orders.create.p95=150ms", "products.list.p95=50ms", "errors=0%")),
        Profile("spike", "a quiet shop, a sudden crowd of 150 shoppers for 30 s, quiet again",
                (Stage(20, 10, 5), Stage(30, 150, 50), Stage(30, 10, 50))),
        Profile("soak", "steady 60 users for 30 minutes: memory and latency drift",
                _ramp((30, 60), (1770, 60)), thresholds=("p95=500ms", "errors=0.5%")),
        Profile("capacity", "steps of users, 30 s each, until a threshold breaks: the knee",
                tuple(Stage(30, n, max(5.0, n / 5)) for n in (20, 40, 80, 120, 160, 200, 260, 330, 400)),
                mix={"checkout": 1}, think_time_s=(0.5, 0.5), thresholds=("p95=150ms", "errors=0%"), step=True),
    )
}


def load(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile file (JSON, the shape of ``--show-profile``)."""
    if name_or_path in PROFILES:
        return PROFILES[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ScaleTestError(
            f"no profile named {name_or_path!r}",
            hint=f"one of: {', '.join(PROFILES)}, or a JSON file (ecomctl scale-test --show-profile smoke)")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ScaleTestError(f"cannot read profile {path}: {exc}") from None
    return Profile.from_dict(data)
