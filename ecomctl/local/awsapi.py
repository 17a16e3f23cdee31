"""The local AWS API endpoint (moto server) for S3, SQS and SNS; see ``awsapi_server``."""

from __future__ import annotations

from collections.abc import Callable

from ecomctl.local.context import HOST, NAME_PREFIX, LocalContext, physical_name
from ecomctl.local.spec import ComponentSpec, ProbeResult

NAME = "awsapi"


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    ctx.layout.component_data(NAME).mkdir(parents=True, exist_ok=True)


def spec(ctx: LocalContext) -> ComponentSpec:
    port = ctx.port(NAME)
    command = [
        ctx.python, "-m", "ecomctl.local.awsapi_server", "--port", str(port),
        "--prefix", NAME_PREFIX, "--snapshot-dir", str(ctx.layout.component_data(NAME)),
    ]
    for origin in ctx.endpoints.cors_origins:
        command += ["--cors-origin", origin]
    return ComponentSpec(
        name=NAME,
        kind="store",
        requires=(),
        command=tuple(command),
        env={"PYTHONPATH": str(ctx.repo_root), "PYTHONUNBUFFERED": "1"},
        cwd=ctx.repo_root,
        probe=lambda: probe(ctx),
        ports=(port,),
        url=f"http://{HOST}:{port}",
        start_seconds=1,
        stop_wait_seconds=10,
        description="AWS API endpoint (moto): S3, SQS, SNS",
    )


def probe(ctx: LocalContext) -> ProbeResult:
    """Ready when the provisioned resources answer (not merely when the port is open)."""
    import boto3
    from botocore.config import Config

    cfg = Config(connect_timeout=0.5, read_timeout=1, retries={"max_attempts": 0})
    kw = dict(endpoint_url=ctx.aws_url, region_name="us-east-1", aws_access_key_id="local",
              aws_secret_access_key="local", config=cfg)
    try:
        for bucket in ctx.topology.buckets:
            boto3.client("s3", **kw).head_bucket(Bucket=physical_name(bucket.name))
        sqs = boto3.client("sqs", **kw)
        for queue in ctx.topology.queues:
            sqs.get_queue_url(QueueName=physical_name(queue.name))
    except Exception as exc:
        return ProbeResult(False, f"{type(exc).__name__}: {exc}"[:200])
    return ProbeResult(True, "buckets and queues present")
