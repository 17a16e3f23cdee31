"""The only module that touches the users database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from asyncmy.errors import IntegrityError
from asyncmy.pool import Pool

from services.kit import mysql
from services.kit.events import rfc3339
from services.users.schemas import User

_COLUMNS = "id, name, email, role, created_at"


class EmailTaken(Exception):
    pass


def _user(row: tuple[Any, ...]) -> User:
    created: datetime = row[4]
    return User(id=row[0], name=row[1], email=row[2], role=row[3], created_at=rfc3339(created))


class UserStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def insert(self, user: User, password_hash: str, created: datetime) -> None:
        try:
            async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
                await cur.execute(
                    "INSERT INTO users (id, email, name, password_hash, role, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (user.id, user.email, user.name, password_hash, user.role, created.replace(tzinfo=None)),
                )
        except IntegrityError:
            raise EmailTaken(user.email) from None

    async def by_id(self, user_id: str) -> User | None:
        row = await mysql.fetch_one(self.pool, f"SELECT {_COLUMNS} FROM users WHERE id = %s", (user_id,))
        return None if row is None else _user(row)

    async def credentials(self, email: str) -> tuple[User, str] | None:
        row = await mysql.fetch_one(
            self.pool, f"SELECT {_COLUMNS}, password_hash FROM users WHERE email = %s", (email,)
        )
        return None if row is None else (_user(row), row[5])

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        async with mysql.transaction(self.pool) as conn, conn.cursor() as cur:
            await cur.execute("UPDATE users SET password_hash = %s WHERE id = %s", (password_hash, user_id))

    async def page(self, after_seq: int | None, limit: int) -> tuple[list[User], int | None]:
        """Users in registration order after ``after_seq``; the seq to continue from (or None)."""
        rows = await mysql.fetch_all(
            self.pool,
            f"SELECT {_COLUMNS}, seq FROM users WHERE seq > %s ORDER BY seq LIMIT %s",
            (after_seq or 0, limit + 1),
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return [_user(r) for r in rows], (rows[-1][5] if more and rows else None)
