"""The only module that touches the orders database: orders, lines, and the outbox rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from asyncmy.connection import Connection
from asyncmy.pool import Pool

from services.kit import mysql
from services.kit.events import OrderEvent, encode, money, rfc3339
from services.orders.schemas import Order, OrderLine

_ORDER_COLUMNS = "id, user_id, status, total, currency, created_at, updated_at, seq"


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


async def insert_outbox(cur: Any, topic: str, event: OrderEvent) -> None:
    """The outbox row of ``event``: written in the caller's transaction, published by the relay."""
    await cur.execute(
        "INSERT INTO outbox (event_id, topic, msg_key, payload, created_at) VALUES (%s, %s, %s, %s, NOW(6))",
        (event.event_id, topic, event.order_id, encode(event).decode()),
    )


def _values(row: str, count: int) -> str:
    return ", ".join([row] * count)


@dataclass(frozen=True)
class NewOrder:
    """An order to store with its event (``created``: its creation time)."""

    order: Order
    created: datetime
    idempotency_key: str | None
    topic: str
    event: OrderEvent
    request_hash: str | None = None


class OrderStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def insert_many(self, batch: Sequence[NewOrder]) -> None:
        """Orders, their lines and their events in one transaction: one multi-row INSERT per table."""
        orders: list[object] = []
        lines: list[object] = []
        events: list[object] = []
        for new in batch:
            order = new.order
            orders += [order.id, order.user_id, order.status, Decimal(order.total), order.currency,
                       new.idempotency_key, new.request_hash, _naive(new.created), _naive(new.created)]
            for n, line in enumerate(order.items):
                lines += [order.id, n, line.product_id, line.name, line.quantity, Decimal(line.unit_price),
                          Decimal(line.line_total)]
            events += [new.event.event_id, new.topic, new.event.order_id, encode(new.event).decode()]
        async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO orders (id, user_id, status, total, currency, idempotency_key, request_hash,"
                " created_at, updated_at) VALUES " + _values("(%s, %s, %s, %s, %s, %s, %s, %s, %s)", len(batch)),
                orders,
            )
            if lines:
                await cur.execute(
                    "INSERT INTO order_items (order_id, line, product_id, name, quantity, unit_price, line_total)"
                    " VALUES " + _values("(%s, %s, %s, %s, %s, %s, %s)", len(lines) // 7),
                    lines,
                )
            await cur.execute(
                "INSERT INTO outbox (event_id, topic, msg_key, payload, created_at) VALUES "
                + _values("(%s, %s, %s, %s, NOW(6))", len(batch)),
                events,
            )

    async def by_idempotency_key(self, user_id: str, key: str) -> tuple[Order, str | None] | None:
        """The order placed with this key, and the fingerprint of its request (None for older orders)."""
        row = await mysql.fetch_one(
            self.pool,
            f"SELECT {_ORDER_COLUMNS}, request_hash FROM orders WHERE user_id = %s AND idempotency_key = %s",
            (user_id, key),
        )
        return None if row is None else ((await self._with_lines([row[:8]]))[0], row[8])

    async def existing(self, order_ids: Sequence[str]) -> set[str]:
        """Which of these orders are stored."""
        if not order_ids:
            return set()
        rows = await mysql.fetch_all(
            self.pool, f"SELECT id FROM orders WHERE id IN ({', '.join(['%s'] * len(order_ids))})",
            tuple(order_ids),
        )
        return {r[0] for r in rows}

    async def settle_release(self, order_id: str, restock: Callable[[], Awaitable[None]]) -> bool:
        """Run ``restock`` for a pending release under its row's lock, then mark it done; False when not pending.

        The lock makes concurrent settlers (the cancelling request, the reconciler) take turns; the
        restock itself is idempotent, so a crash before the mark only makes the next settler repeat it.
        """
        async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT order_id FROM stock_releases WHERE order_id = %s AND released_at IS NULL"
                " FOR UPDATE SKIP LOCKED",
                (order_id,),
            )
            if await cur.fetchone() is None:
                return False
            await restock()
            await cur.execute("UPDATE stock_releases SET released_at = NOW(6) WHERE order_id = %s", (order_id,))
        return True

    async def pending_releases(self, older_than_s: float, limit: int = 100) -> list[str]:
        rows = await mysql.fetch_all(
            self.pool,
            "SELECT order_id FROM stock_releases WHERE released_at IS NULL"
            " AND created_at < NOW(6) - INTERVAL %s MICROSECOND ORDER BY created_at LIMIT %s",
            (int(older_than_s * 1_000_000), limit),
        )
        return [r[0] for r in rows]

    async def released(self, order_ids: Sequence[str]) -> set[str]:
        """Which of these orders' releases are recorded as done."""
        if not order_ids:
            return set()
        rows = await mysql.fetch_all(
            self.pool,
            "SELECT order_id FROM stock_releases WHERE released_at IS NOT NULL"
            f" AND order_id IN ({', '.join(['%s'] * len(order_ids))})",
            tuple(order_ids),
        )
        return {r[0] for r in rows}

    async def get(self, order_id: str) -> Order | None:
        row = await mysql.fetch_one(
            self.pool, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s", (order_id,)
        )
        return None if row is None else (await self._with_lines([row]))[0]

    async def page(self, user_id: str | None, before_seq: int | None, limit: int) -> tuple[list[Order], int | None]:
        """Newest first; the seq to continue from (or None)."""
        where: list[str] = []
        args: list[object] = []
        if user_id is not None:
            where.append("user_id = %s")
            args.append(user_id)
        if before_seq is not None:
            where.append("seq < %s")
            args.append(before_seq)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await mysql.fetch_all(
            self.pool, f"SELECT {_ORDER_COLUMNS} FROM orders {clause} ORDER BY seq DESC LIMIT %s",
            (*args, limit + 1),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return await self._with_lines(rows), (rows[-1][7] if more and rows else None)

    async def cancel(self, order_id: str, now: datetime, topic: str,
                     make_event: Callable[[Order], OrderEvent]) -> tuple[str, Order | None]:
        """("cancelled", order) / ("not-cancellable", order) / ("missing", None), event in the same transaction."""
        async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
            await cur.execute(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = %s FOR UPDATE", (order_id,))
            row = await cur.fetchone()
            if row is None:
                return "missing", None
            order = (await self._lines_on(conn, [row]))[0]
            if order.status != "created":
                return "not-cancellable", order
            await cur.execute(
                "UPDATE orders SET status = 'cancelled', updated_at = %s WHERE id = %s",
                (_naive(now), order_id),
            )
            cancelled = Order(
                id=order.id, user_id=order.user_id, status="cancelled", items=order.items,
                total=order.total, currency=order.currency, created_at=order.created_at,
                updated_at=rfc3339(now),
            )
            await insert_outbox(cur, topic, make_event(cancelled))
            await cur.execute("INSERT INTO stock_releases (order_id, created_at) VALUES (%s, NOW(6))", (order_id,))
        return "cancelled", cancelled

    async def stored(self, order_id: str) -> bool:
        """Whether the order is stored. A locking read: a transaction still writing it (its commit in
        flight when a connection was lost) is waited for, so the answer is final."""
        async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
            await cur.execute("SELECT 1 FROM orders WHERE id = %s LOCK IN SHARE MODE", (order_id,))
            return await cur.fetchone() is not None

    async def _with_lines(self, rows: list[tuple[Any, ...]]) -> list[Order]:
        if not rows:
            return []
        async with mysql.connection(self.pool) as conn:
            orders = await self._lines_on(conn, rows)
            await conn.commit()
        return orders

    @staticmethod
    async def _lines_on(conn: Connection, rows: list[tuple[Any, ...]]) -> list[Order]:
        ids = [r[0] for r in rows]
        lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT order_id, product_id, name, quantity, unit_price, line_total FROM order_items"
                f" WHERE order_id IN ({', '.join(['%s'] * len(ids))}) ORDER BY order_id, line",
                tuple(ids),
            )
            for oid, pid, name, qty, unit, total in await cur.fetchall():
                lines[oid].append(OrderLine(product_id=pid, name=name, quantity=int(qty),
                                            unit_price=money(unit), line_total=money(total)))
        return [
            Order(id=r[0], user_id=r[1], status=r[2], items=lines[r[0]], total=money(r[3]),
                  currency=r[4], created_at=rfc3339(_utc(r[5])), updated_at=rfc3339(_utc(r[6])))
            for r in rows
        ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)
