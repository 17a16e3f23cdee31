"""The PyFlink job slot: its own virtualenv (created on demand by ``stream.setup``) and process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from blueprint.topology import StreamJob
from blueprint.wiring import stream_job_env
from ecomctl.local.context import LocalContext
from ecomctl.local.spec import ComponentSpec, ProbeResult

USES = ("kafka",)
"""What the job uses while it runs: ``down`` stops it before Kafka. It starts with Kafka, not after
it: the job waits for its source topic itself just before it is submitted (``stream.job``), so the
JVM, PyFlink and the plan load while Kafka starts (about 3 s of a warm ``up`` on two cores)."""


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    from stream import setup

    setup.ensure_environment(ctx.settings.cache_dir, progress)


def spec(ctx: LocalContext, job: StreamJob) -> ComponentSpec:
    from stream import setup

    runtime = setup.ensure_environment(ctx.settings.cache_dir, lambda _m: None)
    state = ctx.layout.component_data(job.name)
    env = {k: str(v) for k, v in stream_job_env(job, ctx.endpoints).items()}
    env.update(
        PYTHONPATH=str(ctx.repo_root), PYTHONUNBUFFERED="1",
        JAVA_HOME=str(ctx.settings.java_home()),
    )
    return ComponentSpec(
        name=job.name,
        kind="stream",
        requires=(),
        command=tuple(setup.job_command(runtime, state)),
        env=env,
        cwd=ctx.repo_root,
        probe=lambda: _probe(state),
        ports=(),
        url=None,
        start_seconds=3,
        stop_wait_seconds=30,
        description=job.description,
    )


def _probe(state: Path) -> ProbeResult:
    from stream import setup

    healthy = setup.is_healthy(state)
    return ProbeResult(healthy, "job running" if healthy else "job not running")
