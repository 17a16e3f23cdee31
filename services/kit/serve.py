"""Run a service's ``create_app`` factory with granian (one worker, ASGI, graceful on SIGTERM)."""

from __future__ import annotations

import os

from granian import Granian
from granian.constants import Interfaces, Loops

from services.kit.settings import ServiceSettings, env_int, env_str

BACKGROUND_NICE = 19
"""CPU priority of a latency-tolerant process (an event consumer): it runs on the cores the
request path leaves idle, and catches up as soon as a burst is over."""


def serve(target: str, *, background: bool = False) -> None:
    """``target`` is ``"services.<pkg>.app:create_app"``; binds ``$HOST:$PORT``.

    ``background``: run at ``BACKGROUND_NICE`` (the worker inherits it).
    """
    try:  # before anything binds: a cloud stack's service with a weak JWT key never listens
        ServiceSettings.from_env(name=target, port=8000)
    except ValueError as exc:
        raise SystemExit(f"{target}: {exc}") from None
    if background:
        os.nice(BACKGROUND_NICE - os.nice(0))
    Granian(
        target,
        address=env_str("HOST", "127.0.0.1"),
        port=env_int("PORT", 8000),
        interface=Interfaces.ASGI,
        # uvloop: bench/order_cost.py at 150 orders/s, CPU per order relative to the load generator's,
        # two paired runs each: orders -15%, gateway -18%, the whole stack -8% against asyncio's loop.
        loop=Loops.uvloop,
        workers=1,
        factory=True,
        backlog=2048,
        log_access=False,
        workers_kill_timeout=15,
    ).serve()
