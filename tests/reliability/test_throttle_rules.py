"""The login throttle's rules on their own (no platform): windows, Retry-After, the hashing gate."""

from __future__ import annotations

import asyncio

import pytest

from services.kit.errors import TooManyRequests, Unavailable
from services.users.throttle import CLEAN, SUSPECT, TRUSTED, HashGate, Limits, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_expire_with_their_window() -> None:
    clock = Clock()
    throttle = LoginThrottle(Limits(account_failures=3, address_failures=100, window_s=60), clock)
    assert throttle.admit("a@x.io", "1.2.3.4") == CLEAN  # nothing failed from there
    throttle.failed("a@x.io")
    throttle.settled("1.2.3.4")
    for _ in range(2):
        clock.now += 10
        assert throttle.admit("a@x.io", "1.2.3.4") == SUSPECT
        throttle.failed("a@x.io")
        throttle.settled("1.2.3.4")
    with pytest.raises(TooManyRequests) as refused:
        throttle.admit("a@x.io", "5.6.7.8")
    assert refused.value.retry_after_s == 40  # the oldest of the last 3 failures leaves the window then
    clock.now += 40
    throttle.admit("a@x.io", "5.6.7.8")
    throttle.succeeded("a@x.io", "5.6.7.8")
    throttle.settled("5.6.7.8")
    assert throttle.admit("a@x.io", "5.6.7.8") == TRUSTED  # a right attempt is forgiven; its address goes first


def test_an_address_counts_its_pending_attempts() -> None:
    throttle = LoginThrottle(Limits(account_failures=100, address_failures=3, window_s=60), Clock())
    for n in range(3):
        throttle.admit(f"u{n}@x.io", "9.9.9.9")  # three in flight, none answered yet
    with pytest.raises(TooManyRequests):
        throttle.admit("u9@x.io", "9.9.9.9")


def test_one_address_logging_several_people_in_at_once_stays_clean_up_to_its_burst() -> None:
    throttle = LoginThrottle(Limits(address_failures=100, burst=3), Clock())
    assert [throttle.admit(f"u{n}@x.io", "10.0.0.1") for n in range(4)] == [CLEAN, CLEAN, CLEAN, SUSPECT]
    for n in range(4):
        throttle.succeeded(f"u{n}@x.io", "10.0.0.1")
        throttle.settled("10.0.0.1")
    assert throttle.admit("u9@x.io", "10.0.0.1") == TRUSTED  # nothing failed, and it logged people in


def test_the_gate_serves_clean_attempts_first_and_refuses_past_its_queues() -> None:
    async def scenario() -> tuple[list[str], int]:
        gate = HashGate(slots=1, queue=2, suspect_queue=1)
        order: list[str] = []
        release = asyncio.Event()

        async def work(name: str) -> str:
            order.append(name)
            if name == "first":
                await release.wait()
            return name

        first = asyncio.create_task(gate.run(CLEAN, lambda: work("first")))
        await asyncio.sleep(0)
        suspect = asyncio.create_task(gate.run(SUSPECT, lambda: work("suspect")))
        clean = asyncio.create_task(gate.run(CLEAN, lambda: work("clean")))
        trusted = asyncio.create_task(gate.run(TRUSTED, lambda: work("trusted")))
        await asyncio.sleep(0)
        refused = 0
        try:
            await gate.run(SUSPECT, lambda: work("too many"))
        except Unavailable as exc:
            refused = exc.retry_after_s or 0
        release.set()
        await asyncio.gather(first, suspect, clean, trusted)
        return order, refused

    order, refused = asyncio.run(scenario())
    assert order == ["first", "trusted", "clean", "suspect"] and refused == 1
