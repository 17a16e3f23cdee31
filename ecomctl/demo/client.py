"""The demo's one HTTP client of the public API (through the gateway), timing every call.

Every call is recorded under an endpoint group with its client-side latency and whether it
failed; a failure is a transport error, a 5xx or a status the call did not expect. A GET that
meets a transport error or a 502/503/504 is retried once (as a browser's user would reload), as
is a login refused with 503 (the users service's throttle refuses before doing anything), and
the retry is counted (``on_retry``), never hidden: the recorded latency covers both attempts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

Recorder = Callable[[str, float, str | None], None]  # group, seconds, what failed (None: success)
TIMEOUT_S = 30.0
RETRY_STATUSES = (502, 503, 504)
RETRY_AFTER_S = 0.5


class ApiError(Exception):
    """A call that failed (already recorded as an error)."""

    def __init__(self, group: str, detail: str) -> None:
        super().__init__(f"{group}: {detail}")
        self.group = group


class ShopClient:
    """Async calls of the public API; ``record(group, seconds, error)`` sees each one."""

    def __init__(self, gateway_url: str, record: Recorder, max_connections: int = 32,
                 on_retry: Callable[[str], None] | None = None) -> None:
        self.gateway_url = gateway_url.rstrip("/")
        self._record = record
        self._on_retry = on_retry
        self._http = httpx.AsyncClient(
            base_url=self.gateway_url, timeout=TIMEOUT_S,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self, group: str, method: str, path: str, *, token: str | None = None, expect: tuple[int, ...] = (200,),
        json: Any = None, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        url: str | None = None, data: Any = None, files: Any = None, retry: bool | None = None,
    ) -> httpx.Response:
        """One request; returns the response when its status is expected, else raises ``ApiError``."""
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        attempts = 2 if (method == "GET" if retry is None else retry) else 1
        for attempt in range(1, attempts + 1):
            try:
                res = await self._http.request(method, url or path, json=json, params=params, headers=sent,
                                               data=data, files=files)
            except httpx.HTTPError as exc:
                if attempt < attempts:
                    await self._retry(group)
                    continue
                cause = f"{method} {path}: {type(exc).__name__}"
                self._record(group, time.perf_counter() - started, cause)
                raise ApiError(group, cause) from None
            if res.status_code in RETRY_STATUSES and res.status_code not in expect and attempt < attempts:
                await self._retry(group)
                continue
            break
        detail = None if res.status_code in expect else f"{method} {path}: HTTP {res.status_code} {res.text[:120]}"
        self._record(group, time.perf_counter() - started, detail)
        if detail is not None:
            raise ApiError(group, detail)
        return res

    async def _retry(self, group: str) -> None:
        if self._on_retry is not None:
            self._on_retry(group)
        await asyncio.sleep(RETRY_AFTER_S)

    async def get_json(self, group: str, path: str, **kwargs: Any) -> Any:
        return (await self.call(group, "GET", path, **kwargs)).json()

    async def login(self, email: str, password: str) -> str:
        res = await self.call("auth", "POST", "/api/auth/login", json={"email": email, "password": password},
                              retry=True)
        return str(res.json()["access_token"])

    async def products(self, group: str = "catalogue", **params: Any) -> list[dict[str, Any]]:
        """Every product matching ``params`` (all pages)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            query = {"limit": 100, **params, **({"cursor": cursor} if cursor else {})}
            page = await self.get_json(group, "/api/products", params=query)
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items
