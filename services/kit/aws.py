"""boto3 clients for S3 and SNS (the SDK reads ``AWS_ENDPOINT_URL*`` locally) and a thread hop for calls.

DynamoDB goes through ``services.kit.dynamo`` instead. A call that fails because the service
cannot answer now (no connection, a timeout, throttling, a 5xx) raises the kit's ``Unavailable``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from services.kit.errors import Unavailable

T = TypeVar("T")

_LIMITER: anyio.CapacityLimiter | None = None
THREADS = 32
THROTTLED = frozenset({"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
                       "SlowDown", "ServiceUnavailable", "RequestThrottled"})


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
    try:
        return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=_limiter())
    except BotoCoreError as exc:
        raise Unavailable(f"the AWS API is unavailable ({type(exc).__name__})") from exc
    except ClientError as exc:
        if unavailable(exc):
            raise Unavailable(f"the AWS API is unavailable ({error_code(exc)})") from exc
        raise


def unavailable(exc: ClientError) -> bool:
    """Whether an AWS error means "retry later" (throttled, or the service failed: a 5xx)."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(exc) in THROTTLED or int(status or 0) >= 500


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
