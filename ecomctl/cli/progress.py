"""A live view of ``up``/``down`` progress: one line per step, one row per component."""

from __future__ import annotations

import time
from types import TracebackType

from rich.live import Live
from rich.table import Table
from rich.text import Text

from ecomctl.cli.render import err_console

_DONE = frozenset({"healthy", "stopped"})
_STYLE = {"healthy": "green", "starting": "yellow", "unhealthy": "red", "failed": "bold red",
          "stopped": "dim"}


class LiveReporter:
    """Implements ``ecomctl.local.platform.Reporter`` on stderr (stdout stays clean for --json)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, str, float]] = {}
        self._t0 = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> LiveReporter:
        if err_console.is_terminal:
            self._live = Live(self._table(), console=err_console, refresh_per_second=8, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(et, ev, tb)

    def step(self, message: str) -> None:
        err_console.print(f"[dim]{self._elapsed()}[/] {message}", highlight=False)

    def component(self, name: str, state: str, detail: str) -> None:
        previous = self._rows.get(name)
        started = previous[2] if previous else time.monotonic()
        self._rows[name] = (state, detail, started)
        if self._live is not None:
            self._live.update(self._table())
        elif previous is None or previous[0] != state:  # plain output: one line per change
            took = f" in {time.monotonic() - started:.1f}s" if state in _DONE else ""
            err_console.print(f"[dim]{self._elapsed()}[/] {name}: {state}{took}", highlight=False)

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self._t0:5.1f}s"

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        for name, (state, detail, started) in self._rows.items():
            waited = "" if state in _DONE else f"{time.monotonic() - started:4.1f}s"
            table.add_row(Text(name, style="bold"), Text(state, style=_STYLE.get(state, "")),
                          Text(waited, style="dim"), Text(detail[:70], style="dim"))
        return table
