"""``/health`` (liveness) and ``/ready`` (every named dependency check answers, quickly)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler

Check = Callable[[], Awaitable[object]]


async def run_checks(checks: Mapping[str, Check], timeout_s: float) -> dict[str, str]:
    """name -> "ok" or a short reason (the exception class, never its text)."""

    async def one(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), timeout_s)
        except TimeoutError:
            return "timeout"
        except Exception as exc:
            return f"error: {type(exc).__name__}"
        return "ok"

    results = await asyncio.gather(*(one(c) for c in checks.values()))
    return dict(zip(checks, results, strict=True))


def health_handlers(
    service: str, checks: Mapping[str, Check], timeout_s: float = 2.0
) -> list[HTTPRouteHandler]:
    """The two route handlers; ``checks`` are evaluated concurrently with ``timeout_s`` each."""

    @get("/health", include_in_schema=False, sync_to_thread=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "service": service}

    @get("/ready", include_in_schema=False)
    async def ready() -> Response[dict[str, Any]]:
        results = await run_checks(checks, timeout_s)
        failed = sorted(name for name, result in results.items() if result != "ok")
        body: dict[str, Any] = {
            "status": "unavailable" if failed else "ok",
            "service": service,
            "checks": results,
        }
        if failed:
            body["failed"] = failed
        return Response(body, status_code=503 if failed else 200)

    return [health, ready]
