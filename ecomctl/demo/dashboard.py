"""The live dashboard (Rich): what the demo sees, redrawn every half second, and the summary table."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal
from typing import Any

from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ecomctl.demo.stats import DemoStats, percentile

REDRAW_S = 0.5
STATE_STYLE = {"healthy": "green", "starting": "yellow"}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def traffic_table(stats: DemoStats) -> Table:
    table = Table(title="Traffic (client-side, per endpoint group)", expand=True, title_justify="left")
    for column in ("group", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column == "group" else "right")
    now = stats.started + stats.elapsed_s
    for name, group in sorted(stats.groups.items()):
        lat = group.latencies
        table.add_row(name, f"{group.rps(now):.1f}", _ms(percentile(lat, 0.5)), _ms(percentile(lat, 0.95)),
                      _ms(percentile(lat, 0.99)), Text(str(group.errors), style="red" if group.errors else "green"))
    return table


def orders_panel(stats: DemoStats) -> Panel:
    delays = stats.notification_delays
    last_upload = stats.uploads[-1] if stats.uploads else None
    lines = [
        f"placed [bold]{stats.orders_placed}[/]   cancelled [bold]{stats.orders_cancelled}[/]   "
        f"last minute [bold]{stats.orders_per_minute()}[/]/min",
        f"revenue [bold]${stats.revenue - stats.revenue_cancelled:,.2f}[/] net "
        f"(${stats.revenue:,.2f} placed)",
        f"notifications [bold]{len(delays)}[/]   delay p50 {_s(percentile(delays, 0.5))}   "
        f"max {_s(max(delays) if delays else None)}",
        "upload " + (f"{last_upload.status}: {last_upload.lines} lines, {last_upload.words} words, "
                     f"{last_upload.processed_after_s:.1f} s" if last_upload else "none processed yet"),
    ]
    return Panel("\n".join(lines), title="Orders, notifications, uploads", title_align="left")


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def windows_table(stats: DemoStats) -> Table:
    table = Table(title="Stream windows (as each one closes)", expand=True, title_justify="left")
    for column in ("minute", "orders", "revenue", "shoppers", "visible after"):
        table.add_column(column, justify="left" if column == "minute" else "right")
    for _, window in sorted(stats.windows.items())[-5:]:
        figures = window.figures
        table.add_row(window.start[11:16], str(figures["orders"]), f"${Decimal(str(figures['revenue'])):,.2f}",
                      str(figures.get("unique_users", "-")), f"{window.visible_after_s:.1f} s")
    if not stats.windows:
        table.add_row("waiting for the first minute to close", "", "", "", "")
    return table


def top_table(stats: DemoStats) -> Table:
    table = Table(title="Top products (recent windows)", expand=True, title_justify="left")
    table.add_column("product")
    table.add_column("units", justify="right")
    table.add_column("revenue", justify="right")
    for name, units, revenue in stats.top_products:
        table.add_row(name, str(units), f"${Decimal(revenue):,.2f}")
    return table


def health_table(stats: DemoStats) -> Table:
    table = Table(title="Health", expand=True, title_justify="left")
    table.add_column("component")
    table.add_column("state")
    for name, state in stats.health:
        table.add_row(name, Text(state, style=STATE_STYLE.get(state, "red")))
    if not stats.health:
        table.add_row("checking…", "")
    return table


def dashboard(stats: DemoStats, storefront: str) -> RenderableType:
    left = Group(traffic_table(stats), orders_panel(stats), windows_table(stats), top_table(stats))
    until = f" of {stats.duration_s:.0f} s" if stats.duration_s else " (Ctrl-C ends it)"
    header = Text.from_markup(
        f"[bold]ecomctl demo[/]  storefront [link={storefront}]{storefront}[/link]  "
        f"{stats.elapsed_s:.0f} s{until}  rate {stats.rate:g} journeys/s  shoppers {stats.shoppers}")
    narration = Panel("\n".join(stats.narration) or "…", title="What just happened", title_align="left")
    return Group(header, Columns([left, health_table(stats)], expand=True), narration)


def live_view(console: Console) -> Any:
    """A view for ``run_demo``: redraws the dashboard until the run stops."""

    async def view(stats: DemoStats, stop: asyncio.Event) -> None:
        with Live(dashboard(stats, stats.gateway_url + "/"), console=console, auto_refresh=False,
                  screen=False, transient=False) as live:
            while not stop.is_set():
                live.update(dashboard(stats, stats.gateway_url + "/"), refresh=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), REDRAW_S)
            live.update(dashboard(stats, stats.gateway_url + "/"), refresh=True)

    return view


def summary_table(summary: dict[str, Any]) -> Table:
    table = Table(title="Demo summary", title_justify="left")
    table.add_column("")
    table.add_column("", justify="right")
    delays = summary["notifications"]
    rows = [
        ("duration", f"{summary['duration_s']:.0f} s"),
        ("shoppers / journeys", f"{summary['shoppers']} / {summary['journeys']}"),
        ("orders placed / cancelled", f"{summary['orders_placed']} / {summary['orders_cancelled']}"),
        ("revenue placed", f"${Decimal(summary['revenue']):,.2f}"),
        ("windows seen", str(len(summary["windows"]))),
        ("notifications (p50 delay)", f"{delays['count']} ({_s(delays['p50_s'])})"),
        ("uploads processed", str(len(summary["uploads"]))),
        ("errors", str(summary["errors"])),
    ]
    rows += [(f"  {name} p50/p95/p99 ms", f"{g['p50_ms']}/{g['p95_ms']}/{g['p99_ms']}")
             for name, g in summary["endpoints"].items()]
    for label, value in rows:
        table.add_row(label, value)
    return table
