"""The load generator process: ``python -m ecomctl.scaletest.worker RUN.json``.

Runs a profile with Locust's library (a local runner and a load shape), then prints one JSON
line a second on stdout: ``tick`` (users, stage, per-group figures of that second), ``stage``
(a finished stage's figures and, for a step profile, whether it held every threshold) and, last,
``final`` (the whole run's figures, accepted and cancelled order ids). SIGTERM (or SIGINT)
stops the load early and still prints ``final``. Locust is imported first: its gevent patching
must come before anything else in this process (docs: environment notes).
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import locust
from locust import LoadTestShape, User
from locust.env import Environment

from ecomctl.scaletest import shoppers
from ecomctl.scaletest.profiles import Profile
from ecomctl.scaletest.series import Bucket
from ecomctl.scaletest.thresholds import evaluate, parse_all


def emit(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Shape(LoadTestShape):
    """The profile's stages, one after the other; ``None`` (stop) after the last or on request."""

    def __init__(self, profile: Profile) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.profile = profile
        self.ends = []
        total = 0.0
        for stage in profile.stages:
            total += stage.duration_s
            self.ends.append(total)
        self.stopped = False

    def stage_at(self, elapsed: float) -> int | None:
        for index, end in enumerate(self.ends):
            if elapsed < end:
                return index
        return None

    def tick(self) -> tuple[int, float] | None:
        index = None if self.stopped else self.stage_at(self.get_run_time())  # type: ignore[no-untyped-call]
        if index is None:
            return None
        stage = self.profile.stages[index]
        return stage.users, stage.spawn_rate


def run(config: dict[str, Any]) -> None:
    profile = Profile.from_dict(config["profile"])
    thresholds = parse_all(profile.thresholds if config.get("thresholds") is None else config["thresholds"])
    shoppers.DATASET.update(config["dataset"], think_time_s=tuple(profile.think_time_s))
    classes: list[type[User]] = []
    for name, weight in profile.mix.items():
        if weight > 0:
            behaviour = shoppers.BEHAVIOURS[name]
            behaviour.weight = weight  # the admin's fixed_count of 1 overrides its weight
            classes.append(behaviour)
    shape = Shape(profile)
    env = Environment(user_classes=classes, shape_class=shape, host=config["url"], events=locust.events)
    runner = env.create_local_runner()

    second, stage_bucket, whole = Bucket(), Bucket(), Bucket()

    def on_request(name: str, response_time: float, exception: BaseException | None, **_: Any) -> None:
        failed = exception is not None
        for bucket in (second, stage_bucket, whole):
            bucket.add(name, response_time, failed)

    env.events.request.add_listener(on_request)  # type: ignore[no-untyped-call]

    interrupted = False

    def stop(*_: Any) -> None:
        nonlocal interrupted
        interrupted = shape.stopped = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    started = time.monotonic()
    runner.start_shape()
    current_stage, stage_started = 0, started
    while True:
        gevent.sleep(1.0)
        now = time.monotonic()
        elapsed = now - started
        figures, second = second.figures(seconds=1.0), Bucket()
        index = shape.stage_at(elapsed)
        emit({"type": "tick", "t": round(elapsed, 2), "users": runner.user_count, "stage": current_stage,
              "groups": figures})
        if index != current_stage or shape.stopped:
            stage = profile.stages[current_stage]
            stage_figures = stage_bucket.figures(seconds=max(now - stage_started, 1e-3))
            checks = evaluate(thresholds, stage_figures)
            held = all(c.passed for c in checks)
            emit({"type": "stage", "index": current_stage, "users": stage.users, "t": round(elapsed, 2),
                  "held": held, "broken": [c.detail for c in checks if not c.passed], "groups": stage_figures})
            if profile.step and not held:
                shape.stopped = True
            stage_bucket, stage_started = Bucket(), now
            current_stage = index if index is not None else current_stage
        if shape.stopped or index is None:
            break
    runner.quit()
    duration = time.monotonic() - started
    emit({"type": "final", "duration_s": round(duration, 2), "groups": whole.figures(seconds=duration),
          "accepted": shoppers.ACCEPTED, "cancelled": shoppers.CANCELLED, "interrupted": interrupted})


def main() -> None:
    run(json.loads(Path(sys.argv[1]).read_text()))


if __name__ == "__main__":
    main()
