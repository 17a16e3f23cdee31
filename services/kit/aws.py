"""boto3 clients (one code path: the SDK reads ``AWS_ENDPOINT_URL*`` locally) and a thread hop for calls."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import boto3
from botocore.config import Config

T = TypeVar("T")

_LIMITER: anyio.CapacityLimiter | None = None
THREADS = 32


def client(service: str, region: str, *, pool: int = 64, read_timeout_s: float = 5.0) -> Any:
    """A boto3 client with short timeouts and a connection pool sized for concurrent requests."""
    config = Config(
        region_name=region, connect_timeout=2, read_timeout=read_timeout_s,
        retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=pool,
    )
    return boto3.session.Session().client(service, config=config)


def _limiter() -> anyio.CapacityLimiter:
    global _LIMITER
    if _LIMITER is None:
        _LIMITER = anyio.CapacityLimiter(THREADS)
    return _LIMITER


async def call(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking SDK call on a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=_limiter())


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
