"""Run a blocking Automation call while engine events stream into a Rich view; Ctrl-C cancels.

Pulumi calls ``on_event`` on its own worker threads, so events only go into a thread-safe queue
here; the main thread drains it and draws. The Automation call itself runs on a daemon thread,
which leaves the main thread free to take Ctrl-C: the first one lets ``pulumi`` cancel cleanly
(it finishes the operations in flight, records them and releases the stack lock), a second one
stops waiting.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ecomctl.errors import CloudError

T = TypeVar("T")

_OP_WORDS = {"create": "creating", "update": "updating", "delete": "deleting", "replace": "replacing",
             "same": "checking", "refresh": "refreshing", "read": "reading", "create-replacement": "replacing",
             "delete-replaced": "deleting"}
_DONE_WORDS = {"create": "created", "update": "updated", "delete": "deleted", "replace": "replaced",
               "same": "unchanged", "refresh": "refreshed", "read": "read", "create-replacement": "replaced",
               "delete-replaced": "deleted"}


class CancelledError(CloudError):
    """The operator pressed Ctrl-C; Pulumi stopped cleanly."""

    exit_code = 130


@dataclass
class _StageView:
    active: dict[str, str] = field(default_factory=dict)  # urn -> "creating <type> <name>"
    done: int = 0
    failed: int = 0
    last: str = ""


@dataclass
class _Outcome(Generic[T]):
    value: T | None = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)


class EngineProgress:
    """The sink for engine events and the view of them (on stderr: stdout stays for results)."""

    def __init__(self, console: Console, title: str) -> None:
        self.console = console
        self.title = title
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.stages: dict[str, _StageView] = {}
        self.diagnostics: list[str] = []
        self._t0 = time.monotonic()

    def sink(self, stage: str, event: Any) -> None:
        """Called on Pulumi's threads: only enqueue."""
        self.events.put((stage, event))

    # -- running ---------------------------------------------------------------------------
    def run(self, work: Callable[[], T], stack: str, command: str) -> T:
        outcome: _Outcome[T] = _Outcome()

        def target() -> None:
            try:
                outcome.value = work()
            except BaseException as exc:  # handed to the main thread
                outcome.error = exc
            finally:
                outcome.finished.set()

        threading.Thread(target=target, name=f"ecomctl-{command}", daemon=True).start()
        live = Live(self._render(), console=self.console, refresh_per_second=6, transient=True) \
            if self.console.is_terminal else None
        interrupted = False
        if live is not None:
            live.start()
        try:
            while not outcome.finished.is_set():
                try:
                    outcome.finished.wait(0.15)
                    self._drain(live)
                except KeyboardInterrupt:
                    if interrupted:
                        raise CloudError(
                            f"stopped waiting for pulumi ({command} of stack {stack!r} may still be running)",
                            hint=f"if the stack stays locked: ecomctl cancel --stack {stack}",
                        ) from None
                    interrupted = True
                    _forward_interrupt()
                    self.console.print(
                        "[yellow]cancelling:[/] pulumi finishes the operations in flight and releases the "
                        "stack (Ctrl-C again to stop waiting)", highlight=False)
            self._drain(live)
        finally:
            if live is not None:
                live.stop()
        if interrupted:
            raise CancelledError(
                f"{command} of stack {stack!r} cancelled",
                hint=f"what was done is recorded; `ecomctl {command} --stack {stack}` continues from there",
            )
        if outcome.error is not None:
            raise outcome.error
        return outcome.value  # type: ignore[return-value]

    # -- events -----------------------------------------------------------------------------
    def _drain(self, live: Live | None) -> None:
        changed = False
        while True:
            try:
                stage, event = self.events.get_nowait()
            except queue.Empty:
                break
            line = self._apply(stage, event)
            changed = True
            if line and live is None:
                self.console.print(f"[dim]{time.monotonic() - self._t0:6.1f}s[/] {line}", highlight=False)
        if changed and live is not None:
            live.update(self._render())

    def _apply(self, stage: str, event: Any) -> str | None:
        view = self.stages.setdefault(stage, _StageView())
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None and not _is_stack(pre.metadata.type):
            meta = pre.metadata
            op = str(getattr(meta.op, "value", meta.op))
            view.active[meta.urn] = f"{_OP_WORDS.get(op, op)} {meta.type} {_name(meta.urn)}"
            return None
        out = getattr(event, "res_outputs_event", None)
        if out is not None and not _is_stack(out.metadata.type):
            meta = out.metadata
            op = str(getattr(meta.op, "value", meta.op))
            view.active.pop(meta.urn, None)
            view.done += 1
            view.last = f"{_DONE_WORDS.get(op, op)} {meta.type} {_name(meta.urn)}"
            return f"{stage:<4} {view.last}"
        failed = getattr(event, "res_op_failed_event", None)
        if failed is not None:
            view.failed += 1
            view.active.pop(failed.metadata.urn, None)
            return f"{stage:<4} [red]failed[/] {failed.metadata.type} {_name(failed.metadata.urn)}"
        diag = getattr(event, "diagnostic_event", None)
        if diag is not None and str(diag.severity) in ("error", "warning"):
            message = str(diag.message).strip().splitlines()[0] if str(diag.message).strip() else ""
            if message:
                self.diagnostics.append(f"{stage}: {diag.severity}: {message}")
                return f"{stage:<4} [{'red' if diag.severity == 'error' else 'yellow'}]{diag.severity}[/] {message}"
        summary = getattr(event, "summary_event", None)
        if summary is not None:
            changes = ", ".join(f"{k} {v}" for k, v in sorted((summary.resource_changes or {}).items()))
            return f"{stage:<4} [bold]done[/] ({changes or 'no changes'})"
        return None

    def _render(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_row(Text(self.title, style="bold"), Text(f"{time.monotonic() - self._t0:5.0f}s", style="dim"))
        for stage, view in self.stages.items():
            busy = next(iter(view.active.values()), view.last)
            state = f"{view.done} done" + (f", {view.failed} failed" if view.failed else "")
            table.add_row(Text(stage, style="bold cyan"), Text(state), Text(busy[:90], style="dim"))
        return table


def _is_stack(type_: str) -> bool:
    return type_ == "pulumi:pulumi:Stack"


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _forward_interrupt() -> None:
    """Pass Ctrl-C on to our ``pulumi`` children when the terminal did not (not in its foreground group)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return
    try:
        foreground = os.tcgetpgrp(0)
    except OSError:
        foreground = -1
    for child in psutil.Process().children(recursive=False):
        try:
            if os.getpgid(child.pid) != foreground:
                child.send_signal(signal.SIGINT)
        except (psutil.Error, OSError):
            continue
