"""The engine-event view: events from any thread, one line per resource, errors handed back."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from pulumi.automation.events import EngineEvent
from rich.console import Console

from ecomctl.cloud.progress import EngineProgress
from ecomctl.errors import CloudError

URN = "urn:pulumi:dev::ecomctl-aws::aws:rds/instance:Instance::ecomctl-dev-mysql"


def event(**fields: Any) -> EngineEvent:
    return EngineEvent.from_json({"sequence": 1, "timestamp": 0, **fields})


def meta(op: str = "create") -> dict[str, Any]:
    return {"op": op, "urn": URN, "type": "aws:rds/instance:Instance", "provider": ""}


EVENTS = [
    event(resourcePreEvent={"metadata": meta()}),
    event(resOutputsEvent={"metadata": meta()}),
    event(diagnosticEvent={"message": "deprecated argument\nmore", "color": "never", "severity": "warning"}),
    event(summaryEvent={"maybeCorrupt": False, "durationSeconds": 3, "resourceChanges": {"create": 1},
                        "policyPacks": {}}),
]


def test_events_from_worker_threads_become_lines() -> None:
    out = io.StringIO()
    progress = EngineProgress(Console(file=out, width=200, force_terminal=False), "up dev")

    def work() -> str:
        feeders = [threading.Thread(target=progress.sink, args=("aws", e)) for e in EVENTS]
        for t in feeders:
            t.start()
            t.join()  # keep the order: the test reads the lines
        return "done"

    assert progress.run(work, "dev", "up") == "done"
    text = out.getvalue()
    assert "aws  created aws:rds/instance:Instance ecomctl-dev-mysql" in text
    assert "aws  warning deprecated argument" in text and "more" not in text
    assert "aws  done (create 1)" in text
    assert progress.diagnostics == ["aws: warning: deprecated argument"]


def test_the_live_view_draws_on_a_terminal() -> None:
    out = io.StringIO()
    progress = EngineProgress(Console(file=out, width=200, force_terminal=True), "up dev")
    progress.sink("aws", EVENTS[0])
    assert progress.run(lambda: 1, "dev", "up") == 1
    table = progress._render()
    console = Console(file=io.StringIO(), width=200)
    console.print(table)
    assert "creating aws:rds/instance:Instance ecomctl-dev-mysql" in console.file.getvalue()  # type: ignore[attr-defined]


def test_an_error_of_the_work_is_raised_on_the_main_thread() -> None:
    progress = EngineProgress(Console(file=io.StringIO()), "up dev")

    def fail() -> None:
        raise CloudError("up of stack 'dev' (ecomctl-aws) failed: boom")

    with pytest.raises(CloudError, match="boom"):
        progress.run(fail, "dev", "up")
