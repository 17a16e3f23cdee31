"""asyncmy connection pool and a versioned-SQL migrator (``NNNN_name.sql`` files, applied once, in order)."""

from __future__ import annotations

import asyncio
import logging
import ssl
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncmy
from asyncmy.connection import Connection
from asyncmy.pool import Pool

from services.kit.settings import Env, env_int, env_str, redact

log = logging.getLogger("services.kit.mysql")

MIGRATIONS_TABLE = "schema_migrations"
TLS_MODES = ("", "required", "verify")
"""``MYSQL_TLS``: "" plain TCP (the local stack), "required" encrypted without checking the
server's certificate, "verify" encrypted with the certificate checked against ``MYSQL_TLS_CA``
(or the system store) and the host name (the cloud stack, RDS)."""
_LOCK_TIMEOUT_S = 30
_ACQUIRE_TIMEOUTS: weakref.WeakKeyDictionary[Pool, float] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class MysqlSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    pool_size: int = 10
    connect_timeout_s: int = 3
    tls: str = ""
    tls_ca: str = ""
    read_timeout_s: float | None = None
    """How long one read from the server may wait (a hung server: the query fails with ``OperationalError``,
    the connection is closed). None: no bound (migrations, whose DDL may take long)."""

    @classmethod
    def from_env(cls, environ: Env | None = None, *, database: str, pool_size: int = 10,
                 read_timeout_s: float | None = None) -> MysqlSettings:
        """``database`` is the default for ``MYSQL_DATABASE`` (and, as ``<database>_svc``, ``MYSQL_USER``)."""
        return cls(
            host=env_str("MYSQL_HOST", "127.0.0.1", environ),
            port=env_int("MYSQL_PORT", 3306, environ),
            user=env_str("MYSQL_USER", f"{database}_svc", environ),
            password=env_str("MYSQL_PASSWORD", "", environ),
            database=env_str("MYSQL_DATABASE", database, environ),
            pool_size=pool_size,
            tls=env_str("MYSQL_TLS", "", environ).strip().lower(),
            tls_ca=env_str("MYSQL_TLS_CA", "", environ),
            read_timeout_s=read_timeout_s,
        )

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise ValueError(f"MYSQL_TLS={self.tls!r}: one of 'required', 'verify' or empty")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context the connections use, or None for plain TCP."""
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.tls_ca or None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.tls == "required":
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def __repr__(self) -> str:
        return (f"MysqlSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
                f"password={redact(self.password)!r}, database={self.database!r}, tls={self.tls!r})")


async def create_pool(settings: MysqlSettings, wait_s: float = 30.0) -> Pool:
    """A pool with one live connection, retrying for ``wait_s`` while the server is not up yet."""
    deadline = asyncio.get_running_loop().time() + wait_s
    context = settings.ssl_context()
    while True:
        try:
            pool: Pool = await asyncmy.create_pool(
                minsize=1, maxsize=settings.pool_size, pool_recycle=600,
                host=settings.host, port=settings.port, user=settings.user,
                password=settings.password, database=settings.database,
                connect_timeout=settings.connect_timeout_s, read_timeout=settings.read_timeout_s,
                autocommit=False, charset="utf8mb4", ssl=context,
            )
            if settings.read_timeout_s is not None:
                _ACQUIRE_TIMEOUTS[pool] = settings.read_timeout_s
            return pool
        except Exception as exc:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            log.warning("mysql not reachable yet (%s), retrying", type(exc).__name__)
            await asyncio.sleep(0.5)


READ_COMMITTED = "READ COMMITTED"


@asynccontextmanager
async def connection(pool: Pool) -> AsyncIterator[Connection]:
    """A pooled connection. With a read timeout set, waiting for one is bounded by it too
    (``TimeoutError``): the pool opens new connections one at a time, so against a hung server
    every waiter would otherwise wait for each opening before it to time out in turn."""
    async with asyncio.timeout(_ACQUIRE_TIMEOUTS.get(pool)):
        conn: Connection = await pool.acquire()
    try:
        yield conn
    finally:
        pool.release(conn)


@asynccontextmanager
async def transaction(pool: Pool, isolation: str | None = None) -> AsyncIterator[Connection]:
    """A connection inside a transaction: committed on success, rolled back on any error.

    ``isolation`` (e.g. ``READ_COMMITTED``) applies to this transaction only.
    """
    async with connection(pool) as conn:
        # Pool connections run with autocommit off: the first statement opens the transaction,
        # so no BEGIN round trip is needed.
        if isolation is not None:
            async with conn.cursor() as cur:
                await cur.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        try:
            yield conn
        except BaseException:
            try:
                await conn.rollback()
            except Exception:  # the connection is broken: it is closed below
                conn.close()
            raise
        await conn.commit()


async def fetch_one(pool: Pool, sql: str, args: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    async with connection(pool) as conn:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            row: tuple[Any, ...] | None = await cur.fetchone()
        await conn.commit()
    return row


async def fetch_all(pool: Pool, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    async with connection(pool) as conn:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            rows: list[tuple[Any, ...]] = list(await cur.fetchall())
        await conn.commit()
    return rows


async def ping(pool: Pool) -> None:
    """Readiness: ``SELECT 1`` on a pooled connection."""
    row = await fetch_one(pool, "SELECT 1")
    if row is None or row[0] != 1:
        raise RuntimeError("unexpected answer to SELECT 1")


def migration_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.glob("*.sql") if p.name[:4].isdigit())
    versions = [p.name.split("_", 1)[0] for p in files]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate migration versions in {directory}")
    return files


def statements(sql: str) -> list[str]:
    """The statements of a migration file (split on ``;`` at line ends; ``--`` comments dropped)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    parts = (part.strip().rstrip(";").strip() for part in "\n".join(lines).split(";\n"))
    return [part for part in parts if part]


async def migrate(pool: Pool, directory: Path) -> list[str]:
    """Apply every migration of ``directory`` not yet recorded; the versions applied now.

    A named lock serialises replicas that start together.
    """
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        async with conn.cursor() as cur:
            await cur.execute("SELECT GET_LOCK(%s, %s)", (f"migrate:{MIGRATIONS_TABLE}", _LOCK_TIMEOUT_S))
            (locked,) = await cur.fetchone()
            if locked != 1:
                raise RuntimeError("could not take the migration lock")
            try:
                await cur.execute(
                    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} ("
                    " version VARCHAR(32) PRIMARY KEY, name VARCHAR(255) NOT NULL,"
                    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
                )
                await cur.execute(f"SELECT version FROM {MIGRATIONS_TABLE}")
                done = {row[0] for row in await cur.fetchall()}
                for path in migration_files(directory):
                    version = path.name.split("_", 1)[0]
                    if version in done:
                        continue
                    for statement in statements(path.read_text()):
                        await cur.execute(statement)
                    await cur.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES (%s, %s)",
                        (version, path.name),
                    )
                    await conn.commit()
                    applied_now.append(version)
                    log.info("applied migration %s", path.name)
            finally:
                await cur.execute("SELECT RELEASE_LOCK(%s)", (f"migrate:{MIGRATIONS_TABLE}",))
                await cur.fetchone()
        await conn.commit()
    return applied_now


async def close_pool(pool: Pool) -> None:
    pool.close()
    await pool.wait_closed()
