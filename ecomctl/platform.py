"""One face for every stack: ``open_platform(stack)`` picks the local or the cloud platform once.

Both implement ``Platform``: ``up``, ``down``, ``status``, ``outputs``, ``credentials`` and the
logs. The CLI calls one method per command and renders the result; it never asks which kind of
stack it holds. What the platforms report (``StackStatus``) and what they may ask the operator
(``Operator``) are defined here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecomctl.settings import LOCAL_STACK

HEALTHY_STATES = frozenset({"healthy", "deployed"})


class Reporter(Protocol):
    """Where ``up``/``down`` report progress (the CLI draws it; tests may ignore it)."""

    def step(self, message: str) -> None: ...

    def component(self, name: str, state: str, detail: str) -> None: ...


class Operator(Reporter, Protocol):
    """The person at the terminal, as ``up``/``down`` of a cloud stack need them (the CLI is one)."""

    def confirm(self, question: str, listing: Sequence[str]) -> bool:
        """Show ``listing``, then yes or no (``--yes`` answers yes)."""
        ...

    def confirm_by_name(self, question: str, name: str, listing: Sequence[str]) -> bool:
        """Show ``listing``; yes only when ``name`` is typed back (``--yes`` does not answer it)."""
        ...

    def run(self, title: str, work: Callable[[Any], Any], stack: str, command: str) -> Any:
        """Run a long engine call while its events are drawn: ``work(sink)`` gets the event sink."""
        ...


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    kind: str
    state: str  # healthy | starting | unhealthy | stopped | failed | absent | deployed | chaos
    url: str | None
    pid: int | None
    uptime_s: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "kind": self.kind, "state": self.state}
        if self.url:
            out["url"] = self.url
        out.update(pid=self.pid, uptime_s=round(self.uptime_s, 1), detail=self.detail)
        return out


@dataclass(frozen=True)
class Alert:
    """An alert firing on the stack's Prometheus."""

    name: str
    severity: str
    summary: str
    since: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "severity": self.severity, "summary": self.summary, "since": self.since}


@dataclass(frozen=True)
class Backlog:
    """Follow-on work not done yet, as the stack's Prometheus last saw it: events of accepted orders
    still waiting in the outbox (Kafka unreachable, or the relay behind), and how many messages each
    consumer group is behind. Orders keep being accepted meanwhile; this is where the lag shows."""

    outbox_events: int
    outbox_oldest_s: float
    consumer_lag: dict[str, int]

    @property
    def idle(self) -> bool:
        return self.outbox_events == 0 and not any(self.consumer_lag.values())

    def as_dict(self) -> dict[str, object]:
        return {"outbox_events": self.outbox_events, "outbox_oldest_s": self.outbox_oldest_s,
                "consumer_lag": self.consumer_lag}

    def describe(self) -> str:
        behind = ", ".join(f"{group} {lag}" for group, lag in sorted(self.consumer_lag.items())) or "none seen"
        return (f"{self.outbox_events} event(s) waiting in the outbox (oldest {self.outbox_oldest_s:.1f} s); "
                f"consumers behind by: {behind}")


@dataclass(frozen=True)
class StackStatus:
    stack: str
    components: tuple[ComponentStatus, ...]
    endpoints: dict[str, str] = field(default_factory=dict)
    state_dir: str = ""
    alerts: tuple[Alert, ...] = ()
    """Alerts firing on the stack's Prometheus (empty when it does not answer)."""
    backlog: Backlog | None = None
    """Follow-on work not done yet (None when the stack's Prometheus does not answer)."""

    @property
    def not_ready(self) -> list[str]:
        """The components that are neither healthy (local) nor deployed (cloud)."""
        return [c.name for c in self.components if c.state not in HEALTHY_STATES]

    @property
    def healthy(self) -> bool:
        return not self.not_ready

    def as_dict(self) -> dict[str, object]:
        return {
            "stack": self.stack,
            "healthy": self.healthy,
            "components": [c.as_dict() for c in self.components],
            "endpoints": self.endpoints,
            "state_dir": self.state_dir,
            "alerts": [a.as_dict() for a in self.alerts],
            "backlog": None if self.backlog is None else self.backlog.as_dict(),
        }


@dataclass(frozen=True)
class Credentials:
    admin_email: str
    admin_password: str


class Platform(Protocol):
    """What every stack offers the CLI."""

    @property
    def stack(self) -> str: ...

    def up(self, reporter: Operator) -> StackStatus: ...

    def seed_sample_data(self, skip: bool) -> int | None:
        """After a new stack's first ``up``: add the sample catalogue (or record that ``skip`` declined
        it); the number of products added, or None when there was nothing to do."""
        ...

    def down(self, purge: bool, reporter: Operator) -> None: ...

    def status(self) -> StackStatus: ...

    def outputs(self) -> dict[str, Any]:
        """Addresses and names (secrets masked)."""
        ...

    def credentials(self) -> Credentials: ...

    def access(self) -> list[str]:
        """How to reach the running stack: addresses and where each login comes from."""
        ...

    def log_tail(self, name: str, lines: int) -> str: ...

    def follow_log(self, name: str) -> Iterator[str]:
        """New text of a component's log as it is written (secrets masked), until interrupted."""
        ...


def open_platform(stack: str = LOCAL_STACK) -> Platform:
    """The local platform for ``local``, a cloud platform for any other stack name."""
    if stack == LOCAL_STACK:
        from ecomctl.local.platform import LocalPlatform

        return LocalPlatform()
    from ecomctl.cloud.platform import CloudPlatform

    return CloudPlatform(stack)
