"""What the demo reads besides its own calls: the stream job's windows, top products, health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

from ecomctl.demo.client import ApiError, ShopClient
from ecomctl.demo.stats import DemoStats, WindowSeen

Health = Callable[[], Awaitable[list[tuple[str, str]]]]
WINDOWS_EVERY_S = 2.0
HEALTH_EVERY_S = 5.0


def window_sentence(window: WindowSeen) -> str:
    figures = window.figures
    return (f"window {window.start[11:16]} closed: {figures['orders']} orders, "
            f"${Decimal(str(figures['revenue'])):,.2f}, {figures.get('unique_users', '?')} shoppers; "
            f"visible {window.visible_after_s:.1f} s after its close")


async def poll_windows(client: ShopClient, stats: DemoStats) -> None:
    """Record each window that ends after the run started, the first time the analytics API has it."""
    since = stats.started_at
    page = await client.get_json("analytics", "/api/analytics/windows", params={"limit": 10})
    now = datetime.now(UTC)
    for window in reversed(page["items"]):  # oldest first, so the narration is in order
        end = datetime.fromisoformat(str(window["window_end"]).replace("Z", "+00:00"))
        if end > since:
            seen = stats.window_seen(window, now)
            if seen is not None:
                stats.narrate(window_sentence(seen))


async def poll_top_products(client: ShopClient, stats: DemoStats, names: Callable[[str], str]) -> None:
    body = await client.get_json("analytics", "/api/analytics/top-products", params={"limit": 5})
    stats.top_products = [(names(p["product_id"]), int(p["units"]), str(p["revenue"])) for p in body["items"]]


async def ready_health(client: ShopClient) -> list[tuple[str, str]]:
    """Health of a stack known only by its gateway URL: the gateway's /ready and every check it lists."""
    res = await client.call("health", "GET", "/ready", expect=(200, 503))
    body = res.json()
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    return [("api-gateway", "healthy" if res.status_code == 200 else "unhealthy"),
            *((name, "healthy" if result == "ok" else str(result)) for name, result in checks.items())]


async def watch(client: ShopClient, stats: DemoStats, stop: asyncio.Event, health: Health,
                names: Callable[[str], str]) -> None:
    """Poll windows every 2 s, top products and health every 5 s, until ``stop``."""
    next_health = asyncio.get_running_loop().time()
    while not stop.is_set():
        try:
            await poll_windows(client, stats)
            if asyncio.get_running_loop().time() >= next_health:
                next_health += HEALTH_EVERY_S
                await poll_top_products(client, stats, names)
                stats.health = await health()
        except ApiError:
            pass  # counted as an error of its group; the next round tries again
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WINDOWS_EVERY_S)
