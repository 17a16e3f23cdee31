"""Running provisioning coroutines from synchronous code, inside or outside an event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a fresh loop in a worker thread.

    Safe whether or not the caller already runs an event loop (a Playwright or pytest-asyncio
    test, a notebook): ``asyncio.run`` alone refuses to run inside one.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
