"""The one read cache of the services: time-bounded, single-flight, bounded in bytes.

- A value lives ``ttl_s`` seconds; a read never removes anything but its own expired entry.
- Misses are single-flight: while one caller loads a key, the others that miss it wait for that
  load (its value or its error) instead of each going to the store or upstream (when an entry
  expires under load, every open connection would otherwise miss at once).
- The total size of the values (``size(value)`` bytes each) stays under ``max_bytes``: the
  oldest entries go first, and a value larger than an eighth of the bound is not kept at all.
  Callers key entries only by what the answer depends on (a route's own parameters), so junk in
  a request cannot create entries.
- ``refresh(key, load)`` (a reader who must see their own writes) loads ``key`` anew and keeps it.
- ``clear()`` (after a write) forgets every entry and the loads in flight: a read that starts
  after a write never gets a value loaded before it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def _always(_: object) -> bool:
    return True


class Cache(Generic[V]):
    def __init__(self, ttl_s: float, max_bytes: int, size: Callable[[V], int]) -> None:
        self.ttl_s = ttl_s
        self.max_bytes = max_bytes
        self.size = size
        self.bytes = 0
        self._entries: dict[Hashable, tuple[float, int, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._drop(key)
            return None
        return entry[2]

    async def get_or_load(self, key: Hashable, load: Callable[[], Awaitable[V]],
                          keep: Callable[[V], bool] = _always) -> V:
        """The cached value, or one load shared by every concurrent caller of ``key``; the loaded
        value is kept when ``keep(value)`` (an error is shared, never kept)."""
        while True:
            value = self.get(key)
            if value is not None:
                return value
            pending = self._loading.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled
                # the loader was cancelled (its client went away): load again
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except asyncio.CancelledError:
            self._settle(key, future)
            future.cancel()
            raise
        except BaseException as exc:
            self._settle(key, future)
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        if self._settle(key, future) and keep(value):
            self._put(key, value)
        future.set_result(value)
        return value

    async def refresh(self, key: Hashable, load: Callable[[], Awaitable[V]],
                      keep: Callable[[V], bool] = _always) -> V:
        """A value loaded after this call (read-your-writes): the entry and any load of ``key`` in
        flight are forgotten (that load's value is not kept), then ``key`` loads as on a miss."""
        self._drop(key)
        self._loading.pop(key, None)
        return await self.get_or_load(key, load, keep)

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()
        self.bytes = 0

    def _settle(self, key: Hashable, future: asyncio.Future[V]) -> bool:
        """End the load of ``key``; False when a ``clear`` happened while it ran."""
        if self._loading.get(key) is future:
            del self._loading[key]
            return True
        return False

    def _put(self, key: Hashable, value: V) -> None:
        if self.ttl_s <= 0:
            return
        size = self.size(value)
        if size > self.max_bytes // 8:
            return
        self._drop(key)
        while self._entries and self.bytes + size > self.max_bytes:
            self._drop(next(iter(self._entries)))
        self._entries[key] = (time.monotonic() + self.ttl_s, size, value)
        self.bytes += size

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry[1]
