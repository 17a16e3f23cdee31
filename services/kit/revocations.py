"""Revoked bearer tokens (logged out before they expire), known to every service within a second.

A logout writes the token's ``jti`` to the ``revoked-tokens`` table with the token's expiry
(the table's TTL attribute). Every service keeps the set of unexpired ids in memory, re-read
every ``refresh_s`` (one Scan of a table that only holds tokens not yet expired), and token
verification refuses an id in the set. When the table cannot be read, the last set read stays
in force and the next refresh tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from services.kit.dynamo import DynamoClient, from_item, to_item
from services.kit.settings import ServiceSettings

log = logging.getLogger("services.kit.revocations")
REFRESH_S = 0.5


class Revocations:
    def __init__(self, region: str, table: str, refresh_s: float = REFRESH_S) -> None:
        self.table = table
        self.refresh_s = refresh_s
        self.dynamo = DynamoClient(region)
        self._ids: frozenset[str] = frozenset()
        self._added: set[str] = set()  # revoked here since the last refresh

    @classmethod
    def of(cls, settings: ServiceSettings) -> Revocations | None:
        """The service's revocation list (None where no table is wired, e.g. a bare test app)."""
        return cls(settings.region, settings.revoked_tokens) if settings.revoked_tokens else None

    def revoked(self, token_id: str) -> bool:
        return token_id in self._ids or token_id in self._added

    async def revoke(self, token_id: str, expires_at: float) -> None:
        await self.dynamo.call("PutItem", {
            "TableName": self.table,
            "Item": to_item({"jti": token_id, "expires_at": int(expires_at) + 1}),
        })
        self._added.add(token_id)

    async def refresh(self) -> None:
        now = to_item({":now": int(time.time())})
        ids: set[str] = set()
        start: dict[str, Any] | None = None
        added = set(self._added)
        while True:
            payload: dict[str, Any] = {
                "TableName": self.table, "ProjectionExpression": "jti",
                "FilterExpression": "expires_at > :now", "ExpressionAttributeValues": now,
            }
            if start is not None:
                payload["ExclusiveStartKey"] = start
            answer = await self.dynamo.call("Scan", payload)
            ids.update(str(from_item(item)["jti"]) for item in answer.get("Items", []))
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        self._ids = frozenset(ids)
        self._added -= added  # the table had them by the time this scan started

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("revoked tokens not refreshed (%s); keeping the last list", type(exc).__name__)

    @asynccontextmanager
    async def lifespan(self, _: Any) -> AsyncIterator[None]:
        try:
            await self.refresh()
        except Exception as exc:
            log.warning("revoked tokens not read at start (%s); retrying", type(exc).__name__)
        task = asyncio.create_task(self._run(), name="revocations")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await self.dynamo.close()
