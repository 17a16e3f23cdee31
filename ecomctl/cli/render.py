"""Consoles and shared rendering: tables, JSON. ``--json`` prints exactly one object on stdout."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ecomctl.platform import StackStatus

console = Console()
err_console = Console(stderr=True)
if not console.is_terminal:  # pipes and CI logs: do not squeeze tables into 80 columns
    console.width = max(console.width, 140)
if not err_console.is_terminal:
    err_console.width = max(err_console.width, 140)


def print_json(obj: Any) -> None:
    """One JSON object on stdout, nothing else (for scripts and CI)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


def status_table(state: StackStatus) -> Table:
    """Components, their state, address and detail."""
    table = Table(title=f"stack: {state.stack}", title_justify="left", expand=False)
    for col in ("component", "state", "address", "pid", "up", "detail"):
        table.add_column(col, overflow="fold")
    styles = {"healthy": "green", "starting": "yellow", "unhealthy": "red", "failed": "bold red", "chaos": "magenta"}
    for c in state.components:
        table.add_row(
            c.name, f"[{styles.get(c.state, 'dim')}]{c.state}[/]", c.url or "-",
            str(c.pid or "-"), _ago(c.uptime_s), c.detail[:60],
        )
    return table


def _ago(seconds: float) -> str:
    if seconds <= 0:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
