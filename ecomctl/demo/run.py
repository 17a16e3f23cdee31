"""One demo run: shoppers at a rate for a duration (or until stopped), watchers, then the summary."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ecomctl.demo.client import ApiError, ShopClient
from ecomctl.demo.seed import ensure_catalogue
from ecomctl.demo.shoppers import Journeys, ensure_shoppers
from ecomctl.demo.stats import DemoStats
from ecomctl.demo.watchers import Health, ready_health, watch
from ecomctl.errors import DemoError

MAX_IN_FLIGHT = 24  # journeys at once; a slower shop gets fewer new ones rather than a pile-up
DRAIN_S = 15.0  # after the traffic stops: how long follow-ups (notifications, uploads) may finish


@dataclass(frozen=True)
class Target:
    """Where the demo runs: a gateway, and the admin login when it is known (seeding needs it)."""

    gateway_url: str
    admin_email: str | None = None
    admin_password: str | None = None
    health: Callable[[], Awaitable[list[tuple[str, str]]]] | None = None


@dataclass(frozen=True)
class DemoOptions:
    duration_s: float | None = None  # None: until Ctrl-C
    rate: float = 1.0  # journeys started per second
    traffic: bool = True
    shoppers: int = 8
    seed: int | None = None


View = Callable[[DemoStats, asyncio.Event], Awaitable[None]]


async def run_demo(target: Target, options: DemoOptions, stats: DemoStats, view: View | None = None) -> DemoStats:
    """Run the demo until its duration is over or SIGINT/SIGTERM; returns the filled ``stats``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = ShopClient(target.gateway_url, stats.record, on_retry=stats.retried)
    try:
        journeys = await _prepare(client, target, options, stats, stop)
        health: Health = target.health or (lambda: ready_health(client))
        tasks = [asyncio.ensure_future(watch(client, stats, stop, health, journeys.product_name))]
        if view is not None:
            tasks.append(asyncio.ensure_future(view(stats, stop)))
        if options.duration_s is not None:
            loop.call_later(max(0.0, options.duration_s - stats.elapsed_s), stop.set)
        await _traffic(journeys, options, stop)
        stats.narrate("traffic stopped; the stack keeps running")
        await _drain(journeys)
        await asyncio.gather(*tasks)
    finally:
        stats.ended_at = datetime.now(UTC)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await client.aclose()
    return stats


async def _prepare(client: ShopClient, target: Target, options: DemoOptions, stats: DemoStats,
                   stop: asyncio.Event) -> Journeys:
    secret = target.admin_password or target.gateway_url
    try:
        if target.admin_email and target.admin_password:
            seeded = await ensure_catalogue(client, await client.login(target.admin_email, target.admin_password))
            if seeded.created:
                stats.narrate(f"added {seeded.created} sample products to the catalogue")
        journeys = Journeys(client, stats, stop, options.seed)
        await journeys.load_catalogue()
        shoppers = await ensure_shoppers(client, options.shoppers, secret) if options.traffic else []
    except ApiError as exc:
        raise DemoError(f"the shop at {target.gateway_url} did not answer as expected ({exc})",
                        hint="ecomctl status shows which component is down") from None
    if options.traffic and not journeys.catalogue:
        raise DemoError("the catalogue has no products in stock to sell",
                        hint="run the demo with the stack's admin login so it can add the sample catalogue")
    stats.shoppers = len(shoppers)
    journeys.shoppers = shoppers
    if shoppers:
        stats.narrate(f"{len(shoppers)} shoppers are in the shop: {', '.join(s.name for s in shoppers)}")
    return journeys


async def _traffic(journeys: Journeys, options: DemoOptions, stop: asyncio.Event) -> None:
    """Start journeys at ``options.rate`` per second until ``stop``; wait for those in flight."""
    running: set[asyncio.Task[None]] = set()
    if options.traffic:
        interval = 1.0 / options.rate
        while not stop.is_set():
            if len(running) < MAX_IN_FLIGHT:
                task = asyncio.ensure_future(journeys.run(journeys.rng.choice(journeys.shoppers)))
                running.add(task)
                task.add_done_callback(running.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), journeys.rng.expovariate(1.0 / interval))
    else:
        await stop.wait()
    if running:
        await asyncio.wait(running)


async def _drain(journeys: Journeys) -> None:
    pending = set(journeys.follow_ups)
    if pending:
        _, late = await asyncio.wait(pending, timeout=DRAIN_S)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
