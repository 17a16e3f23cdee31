"""Login throttling, decided before any password is hashed.

- Failed logins are counted per account (e-mail) over a sliding window; per client address, every
  attempt counts from its start until it succeeds (so attempts still being checked count too).
  Past either limit the next attempt is refused with 429 and ``Retry-After`` at once, unhashed.
- Password hashing has a fixed number of slots and bounded queues in front of them, served in
  order: addresses that logged in successfully lately, then the others, then suspect addresses
  (in a short queue of their own): those that failed lately, or have more than a small burst of
  attempts pending at once (one address logging several people in together, as a shop behind
  a NAT or the demo does, stays clean). When a queue is full the attempt is refused with 503
  and ``Retry-After`` instead of waiting. So a flood of bad logins costs at most its share of
  the slots, and real logins keep theirs.

The counts live in the process (each replica counts its own attempts).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from services.kit.errors import TooManyRequests, Unavailable

T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    account_failures: int = 10  # per account per window
    address_failures: int = 20  # per address per window
    window_s: float = 300.0
    slots: int = 2  # concurrent hashes
    queue: int = 64  # attempts waiting for a slot (clean addresses)
    suspect_queue: int = 4  # attempts waiting for a slot from suspect addresses
    burst: int = 4  # attempts one address may have pending before the next ones are suspect
    max_keys: int = 100_000  # distinct accounts/addresses remembered per window


class FailureLog:
    """Failures per key in a sliding window (bounded number of keys)."""

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._times: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._times.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._times[key]
            return None
        return times

    def count(self, key: str, now: float) -> int:
        times = self._recent(key, now)
        return 0 if times is None else len(times)

    def retry_after(self, key: str, now: float) -> int | None:
        """Seconds until an attempt for ``key`` is allowed again (None: allowed now)."""
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return None
        return max(1, math.ceil(times[-self.limit] + self.window_s - now))

    def fail(self, key: str, now: float) -> None:
        times = self._recent(key, now)
        if times is None:
            if len(self._times) >= self.max_keys:
                self._times.clear()  # a flood of distinct keys: forget rather than grow
            times = self._times[key] = deque(maxlen=self.limit)
        times.append(now)

    def clear(self, key: str) -> None:
        self._times.pop(key, None)

    def forgive(self, key: str) -> None:
        """Drop the latest entry of ``key`` (an attempt that turned out to be right)."""
        times = self._times.get(key)
        if times:
            times.pop()
            if not times:
                del self._times[key]


TRUSTED, CLEAN, SUSPECT = 0, 1, 2  # hashing priorities, served in this order


class HashGate:
    """``slots`` concurrent hashes; by priority; bounded queues that refuse rather than wait."""

    def __init__(self, slots: int, queue: int, suspect_queue: int) -> None:
        self.free = slots
        self.limits = (queue, queue, suspect_queue)
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # (priority, arrival, future)
        self._counts = [0, 0, 0]
        self._arrivals = itertools.count()

    async def run(self, priority: int, work: Callable[[], Awaitable[T]]) -> T:
        if self.free > 0 and not self._waiting:
            self.free -= 1
        else:
            if self._counts[priority] >= self.limits[priority]:
                raise Unavailable("too many logins are in progress; try again shortly", retry_after_s=1)
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (priority, next(self._arrivals), future))
            self._counts[priority] += 1
            try:
                await future  # a slot handed over by a finishing attempt
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._hand_over()  # the slot was ours already: pass it on
                raise
        try:
            return await work()
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        while self._waiting:
            priority, _, future = heapq.heappop(self._waiting)
            self._counts[priority] -= 1
            if not future.done():
                future.set_result(None)
                return
        self.free += 1


class LoginThrottle:
    def __init__(self, limits: Limits | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self.accounts = FailureLog(self.limits.account_failures, self.limits.window_s, self.limits.max_keys)
        self.addresses = FailureLog(self.limits.address_failures, self.limits.window_s, self.limits.max_keys)
        self.gate = HashGate(self.limits.slots, self.limits.queue, self.limits.suspect_queue)
        self._trusted: dict[str, float] = {}  # address -> until when its logins go first
        self._pending: dict[str, int] = {}  # address -> attempts admitted and not yet settled

    def admit(self, account: str, address: str) -> int:
        """Count the attempt against its address; 429 with Retry-After when the account or the
        address failed too often lately. The attempt's hashing priority: SUSPECT past the burst
        of pending attempts, TRUSTED when the address logged in successfully lately, SUSPECT
        when it failed lately, else CLEAN. Every admitted attempt is ``settled`` once answered."""
        now = self.clock()
        waits = [w for w in (self.accounts.retry_after(account, now), self.addresses.retry_after(address, now))
                 if w is not None]
        if waits:
            raise TooManyRequests("too many failed logins; try again later", retry_after_s=max(waits))
        pending = self._pending.get(address, 0)
        failed_lately = self.addresses.count(address, now) > pending
        self.addresses.fail(address, now)  # until it turns out right
        if pending == 0 and len(self._pending) >= self.limits.max_keys:
            self._pending.clear()  # a flood of distinct addresses: forget rather than grow
        self._pending[address] = pending + 1
        if pending >= self.limits.burst:
            return SUSPECT
        if self._trusted.get(address, 0.0) > now:
            return TRUSTED
        return SUSPECT if failed_lately else CLEAN

    def settled(self, address: str) -> None:
        """The attempt admitted for ``address`` was answered (any way)."""
        left = self._pending.get(address, 0) - 1
        if left > 0:
            self._pending[address] = left
        else:
            self._pending.pop(address, None)

    def failed(self, account: str) -> None:
        self.accounts.fail(account, self.clock())

    def succeeded(self, account: str, address: str) -> None:
        self.accounts.clear(account)
        self.addresses.forgive(address)
        if len(self._trusted) >= self.limits.max_keys:
            self._trusted.clear()
        self._trusted[address] = self.clock() + self.limits.window_s
