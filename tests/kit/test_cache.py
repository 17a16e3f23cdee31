"""The kit's read cache: single-flight loads, a bound in bytes, writes forget loads in flight."""

from __future__ import annotations

import asyncio

import pytest

from services.kit.cache import Cache


def _cache(max_bytes: int = 1000, ttl_s: float = 60.0) -> Cache[bytes]:
    return Cache(ttl_s, max_bytes, len)


class Loader:
    """A slow load of ``value`` that counts its calls."""

    def __init__(self, value: bytes, delay_s: float) -> None:
        self.value = value
        self.delay_s = delay_s
        self.calls = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        await asyncio.sleep(self.delay_s)
        return self.value


async def test_concurrent_misses_share_one_load_and_its_error() -> None:
    cache = _cache()
    load = Loader(b"value", 0.02)
    assert await asyncio.gather(*(cache.get_or_load("k", load) for _ in range(20))) == [b"value"] * 20
    assert load.calls == 1

    async def fail() -> bytes:
        await asyncio.sleep(0.02)
        raise LookupError("gone")

    results = await asyncio.gather(*(cache.get_or_load("bad", fail) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    assert cache.get("bad") is None  # an error is shared, never kept


async def test_the_bound_is_in_bytes_and_the_oldest_go_first() -> None:
    cache = _cache(max_bytes=800)

    async def value(size: int) -> bytes:
        return b"x" * size

    for n in range(20):
        await cache.get_or_load(n, lambda: value(100))
    assert cache.bytes <= 800 and len(cache) == 8
    assert cache.get(0) is None and cache.get(19) == b"x" * 100
    await cache.get_or_load("huge", lambda: value(200))  # more than an eighth of the bound
    assert cache.get("huge") is None and cache.bytes <= 800


async def test_values_expire_and_keep_decides_what_is_kept() -> None:
    cache = _cache(ttl_s=0.05)

    async def load() -> bytes:
        return b"v"

    await cache.get_or_load("k", load)
    assert cache.get("k") == b"v"
    await asyncio.sleep(0.08)
    assert cache.get("k") is None and cache.bytes == 0
    await cache.get_or_load("no", load, keep=lambda _: False)
    assert cache.get("no") is None


async def test_a_clear_forgets_the_load_in_flight() -> None:
    cache = _cache()
    version = 0

    async def load() -> bytes:
        seen = version
        await asyncio.sleep(0.05)
        return b"%d" % seen

    early = asyncio.ensure_future(cache.get_or_load("k", load))
    await asyncio.sleep(0.01)
    version = 1
    cache.clear()  # a write happened while the load ran
    assert await cache.get_or_load("k", load) == b"1"  # not the early load's value
    assert await early == b"0"
    assert cache.get("k") == b"1"


async def test_a_cancelled_loader_does_not_fail_its_waiters() -> None:
    cache = _cache()
    load = Loader(b"v", 0.05)
    first = asyncio.ensure_future(cache.get_or_load("k", load))
    await asyncio.sleep(0.01)
    waiter = asyncio.ensure_future(cache.get_or_load("k", load))
    await asyncio.sleep(0.01)
    first.cancel()  # its client went away
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await waiter == b"v"  # loaded again for the waiter
    assert load.calls == 2


async def test_refresh_loads_anew_and_a_load_already_in_flight_is_not_kept() -> None:
    cache = _cache()
    await cache.get_or_load("k", Loader(b"old", 0))
    assert await cache.refresh("k", Loader(b"new", 0)) == b"new"  # the cached value is not served
    assert cache.get("k") == b"new"  # and the fresh one is kept for the readers after

    stale = asyncio.ensure_future(cache.get_or_load("j", Loader(b"stale", 0.05)))
    await asyncio.sleep(0.01)  # the stale load is in flight
    assert await cache.refresh("j", Loader(b"fresh", 0)) == b"fresh"
    assert await stale == b"stale"  # its own waiters still get it
    assert cache.get("j") == b"fresh"  # but it does not replace the fresh value
