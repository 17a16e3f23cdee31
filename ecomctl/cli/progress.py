"""The person at the terminal for ``up``/``down``: a live view of progress and the questions asked.

``TerminalOperator`` implements ``ecomctl.platform.Operator`` on stderr (stdout stays clean for
``--json``): one line per step, one row per component (a live table on a terminal, drawn from
the first component on), an engine view for cloud operations, and the confirmations.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ecomctl.cli.render import err_console

_DONE = frozenset({"healthy", "stopped"})
_STYLE = {"healthy": "green", "starting": "yellow", "unhealthy": "red", "failed": "bold red",
          "stopped": "dim"}


class TerminalOperator:
    """``Operator`` on stderr; ``yes`` answers the yes/no questions, ``yes_by_name`` the typed ones."""

    def __init__(self, yes: bool = False, yes_by_name: bool = False) -> None:
        self.yes = yes
        self.yes_by_name = yes_by_name
        self._rows: dict[str, tuple[str, str, float]] = {}
        self._t0 = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> TerminalOperator:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(et, ev, tb)
            self._live = None

    def step(self, message: str) -> None:
        err_console.print(f"[dim]{self._elapsed()}[/] {message}", highlight=False)

    def confirm(self, question: str, listing: Sequence[str]) -> bool:
        self._show(listing)
        if self.yes:
            return True
        try:
            return typer.confirm(question, default=False, err=True)
        except typer.Abort:  # end of input: no answer
            return False

    def confirm_by_name(self, question: str, name: str, listing: Sequence[str]) -> bool:
        self._show(listing)
        if self.yes_by_name:
            return True
        try:
            typed = typer.prompt(question, default="", show_default=False, err=True)
        except typer.Abort:  # end of input: nothing typed
            return False
        return str(typed).strip() == name

    def run(self, title: str, work: Callable[[Any], Any], stack: str, command: str) -> Any:
        from ecomctl.cloud.progress import EngineProgress

        progress = EngineProgress(err_console, title)
        return progress.run(lambda: work(progress.sink), stack, command)

    def _show(self, listing: Sequence[str]) -> None:
        for line in listing:
            err_console.print(line, highlight=False, markup=False, soft_wrap=True)

    def component(self, name: str, state: str, detail: str) -> None:
        previous = self._rows.get(name)
        started = previous[2] if previous else time.monotonic()
        self._rows[name] = (state, detail, started)
        if self._live is None and err_console.is_terminal:
            self._live = Live(self._table(), console=err_console, refresh_per_second=8, transient=True)
            self._live.__enter__()
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
