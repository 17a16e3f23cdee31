"""Storing window results (idempotent by key: last write wins) and answering the analytics API."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import msgspec
from aiokafka import ConsumerRecord

from services.analytics.schemas import (
    Result,
    Summary,
    TopProduct,
    TopProducts,
    TopUser,
    TopUsers,
    Totals,
    WindowPage,
)
from services.analytics.store import AnalyticsStore
from services.kit.auth import Caller, require_admin
from services.kit.errors import Invalid
from services.kit.events import money, utc_now
from services.kit.pagination import decode_cursor, encode_cursor

log = logging.getLogger("services.analytics")

WINDOW_SECONDS = 60
STALE_AFTER_S = 3 * WINDOW_SECONDS


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return Decimal("0")


class AnalyticsService:
    def __init__(self, store: AnalyticsStore, recent_windows: int, stored: Any, skipped: Any,
                 window_end: Any = None, stored_at: Any = None) -> None:
        self.store = store
        self.recent_windows = recent_windows
        self.stored = stored  # prometheus Counter (by kind)
        self.skipped = skipped
        self.window_end = window_end  # prometheus Gauges (the stream job's progress), or None
        self.stored_at = stored_at
        if stored_at is not None:  # "no window stored since" counts from the start, not from 1970
            stored_at.set_to_current_time()
        self._newest_end = 0.0

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        if record.value is None:
            return
        try:
            result = msgspec.json.decode(record.value, type=Result)
        except (msgspec.ValidationError, msgspec.DecodeError):
            log.warning("skipping a malformed result at offset %s", record.offset)
            self.skipped.inc()
            return
        end = _parse_time(result.window_end)
        if _parse_time(result.window_start) is None or end is None:
            self.skipped.inc()
            return
        result = msgspec.structs.replace(result, revenue=money(_decimal(result.revenue)))
        await self.store.put(result)
        self.stored.labels(type(result).__name__.removesuffix("Result").lower()).inc()
        if self.window_end is not None and self.stored_at is not None:
            self._newest_end = max(self._newest_end, end.timestamp())
            self.window_end.set(self._newest_end)
            self.stored_at.set_to_current_time()

    async def windows(self, limit: int, cursor: str | None) -> WindowPage:
        position = decode_cursor(cursor)
        before = position.get("s") if position else None
        if position is not None and (not isinstance(before, str) or len(before) > 64):
            raise Invalid("the cursor is not valid")
        items, last = await self.store.windows(limit, before)
        return WindowPage(items=items, next_cursor=None if last is None else encode_cursor({"s": last}))

    async def summary(self, windows: int | None) -> Summary:
        recent, _ = await self.store.windows(windows or self.recent_windows, None)
        totals = Totals(
            windows=len(recent), orders=sum(w.orders for w in recent), units=sum(w.units for w in recent),
            revenue=money(sum((_decimal(w.revenue) for w in recent), Decimal("0"))),
            cancelled_orders=sum(w.cancelled_orders for w in recent),
        )
        latest = recent[0] if recent else None
        lag: float | None = None
        if latest is not None:
            end = _parse_time(latest.window_end)
            lag = None if end is None else round((utc_now() - end).total_seconds(), 3)
        status: Literal["ok", "stale", "empty"] = "ok"
        if latest is None:
            status = "empty"
        elif lag is None or lag > STALE_AFTER_S:
            status = "stale"
        return Summary(window_seconds=WINDOW_SECONDS, recent=totals, latest=latest, lag_seconds=lag,
                       status=status)

    async def _recent_starts(self, windows: int | None) -> list[str]:
        recent, _ = await self.store.windows(windows or self.recent_windows, None)
        return [w.window_start for w in recent]

    async def top_products(self, limit: int, windows: int | None) -> TopProducts:
        starts = await self._recent_starts(windows)
        units: dict[str, int] = {}
        revenue: dict[str, Decimal] = {}
        for item in await self.store.per_window("PRODUCT", starts):
            pid = item["sk"]
            units[pid] = units.get(pid, 0) + int(item.get("units", 0))
            revenue[pid] = revenue.get(pid, Decimal("0")) + _decimal(item.get("revenue", "0"))
        ranked = sorted(units, key=lambda p: (-units[p], -revenue[p], p))[:limit]
        return TopProducts(
            items=[TopProduct(product_id=p, units=units[p], revenue=money(revenue[p])) for p in ranked],
            windows=len(starts),
        )

    async def top_users(self, caller: Caller, limit: int, windows: int | None) -> TopUsers:
        require_admin(caller)
        starts = await self._recent_starts(windows)
        orders: dict[str, int] = {}
        revenue: dict[str, Decimal] = {}
        for item in await self.store.per_window("USER", starts):
            uid = item["sk"]
            orders[uid] = orders.get(uid, 0) + int(item.get("orders", 0))
            revenue[uid] = revenue.get(uid, Decimal("0")) + _decimal(item.get("revenue", "0"))
        ranked = sorted(orders, key=lambda u: (-revenue[u], -orders[u], u))[:limit]
        return TopUsers(
            items=[TopUser(user_id=u, orders=orders[u], revenue=money(revenue[u])) for u in ranked],
            windows=len(starts),
        )
