"""The platform's own processes: the six services and the file processor, from the topology."""

from __future__ import annotations

from blueprint.topology import Service, Worker
from blueprint.wiring import service_env, worker_env
from ecomctl.local import probes
from ecomctl.local.context import LocalContext
from ecomctl.local.spec import ComponentSpec, ProbeResult


def _python_env(ctx: LocalContext) -> dict[str, str]:
    return {"PYTHONPATH": str(ctx.repo_root), "PYTHONUNBUFFERED": "1"}


def service_spec(ctx: LocalContext, service: Service) -> ComponentSpec:
    env = {k: str(v) for k, v in service_env(service, ctx.endpoints, ctx.topology).items()}
    env.update(_python_env(ctx))
    base = ctx.url(service.name)
    return ComponentSpec(
        name=service.name,
        kind="service",
        requires=stores_used(service),
        command=(ctx.python, "-m", service.package),
        env=env,
        cwd=ctx.repo_root,
        probe=lambda: probes.http_status(f"{base}/ready", timeout=2.0),
        ports=(ctx.port(service.name),),
        url=base,
        start_seconds=1,
        stop_wait_seconds=10,
        description=service.description,
    )


def worker_spec(ctx: LocalContext, worker: Worker) -> ComponentSpec:
    env = {k: str(v) for k, v in worker_env(worker, ctx.endpoints).items()}
    env.update(_python_env(ctx))
    ports: tuple[int, ...] = ()
    if worker.metrics_port is not None:  # served on 127.0.0.1 for the stack's Prometheus
        ports = (ctx.port(worker.name),)
        env["METRICS_PORT"] = str(ports[0])
    return ComponentSpec(
        name=worker.name,
        kind="worker",
        requires=stores_used(worker),
        command=(ctx.python, "-m", worker.package),
        env=env,
        cwd=ctx.repo_root,
        probe=lambda: ProbeResult(True, "running"),  # no API: the supervisor's state says it
        ports=ports,
        start_seconds=2,
        stop_wait_seconds=10,
        description=worker.description,
    )


def stores_used(part: Service | Worker) -> tuple[str, ...]:
    """The store components a service or worker needs before it can be ready."""
    needs: list[str] = []
    if getattr(part, "database", None):
        needs.append("mariadb")
    if getattr(part, "produces", ()) or getattr(part, "consumes", ()):
        needs.append("kafka")
    if part.tables:
        needs.append("dynamodb")
    if part.buckets or part.queues or getattr(part, "notification_topics", ()):
        needs.append("awsapi")
    return tuple(needs)

