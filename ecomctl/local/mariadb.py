"""MariaDB: a private instance (own data directory, 127.0.0.1 only), a database and user per service."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

from blueprint.wiring import mysql_user
from ecomctl.errors import StartupError
from ecomctl.local import aio, probes, system
from ecomctl.local.context import HOST, LocalContext
from ecomctl.local.spec import ComponentSpec

NAME = "mariadb"
# A commit writes the redo log to the OS at once and fsyncs it about once a second
# (innodb_flush_log_at_trx_commit=2): a committed order survives a crash or kill of mariadbd (the
# log is in the kernel's page cache), only a crash of the machine itself (kernel panic, power loss)
# can lose the last second of commits. Without the fsync on every commit (the orders' group commits
# and every relay batch) MariaDB spends less per commit (measured: single-row commits at 150/s,
# 0.20 -> 0.16 ms of mariadbd CPU each).
DURABILITY = ("--innodb-flush-log-at-trx-commit=2",)


def binaries() -> tuple[str, str] | None:
    server, install = system.which("mariadbd"), system.which("mariadb-install-db")
    return (server, install) if server and install else None


def install_hint() -> str:
    return "apt-get install -y mariadb-server (macOS: brew install mariadb)"


def ensure_installed(progress: Callable[[str], None]) -> tuple[str, str]:
    """The server and installer binaries, installing Debian's package when missing (as root)."""
    server, install = system.ensure_commands(
        ("mariadbd", "mariadb-install-db"), "mariadb-server", install_hint(), progress
    )
    return server, install


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    _, install_db = ensure_installed(progress)
    datadir = ctx.layout.component_data(NAME)
    if (datadir / "mysql").is_dir():
        return
    progress("initialising the MariaDB data directory")
    datadir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [install_db, "--no-defaults", f"--datadir={datadir}", f"--user={_os_user()}",
         "--auth-root-authentication-method=normal", "--skip-test-db"],
        capture_output=True, text=True, timeout=300,
    )
    if proc.returncode != 0:
        shutil.rmtree(datadir, ignore_errors=True)
        raise StartupError("mariadb-install-db failed", details=proc.stderr[-2000:])


def _os_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def spec(ctx: LocalContext) -> ComponentSpec:
    found = binaries()
    server = found[0] if found else "mariadbd"
    datadir = ctx.layout.component_data(NAME)
    port = ctx.port(NAME)
    return ComponentSpec(
        name=NAME,
        kind="store",
        requires=(),
        command=(
            server, "--no-defaults", f"--datadir={datadir}",
            f"--socket={ctx.layout.socket(NAME)}", f"--port={port}", f"--bind-address={HOST}",
            f"--user={_os_user()}", "--skip-log-bin", "--skip-name-resolve",
            f"--pid-file={ctx.layout.run / 'mariadb.pid'}", "--innodb-buffer-pool-size=128M",
            "--max-connections=400", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci", "--log-error=", *DURABILITY,
        ),
        env={},
        cwd=datadir,
        probe=lambda: probes.mysql_greeting(HOST, port),
        ports=(port,),
        url=f"mysql://{HOST}:{port}",
        start_seconds=1,
        stop_wait_seconds=15,
        provision=lambda: provision(ctx),
        description="MariaDB (users and orders schemas)",
    )


def provision(ctx: LocalContext) -> None:
    """Root over TCP with the stack's password; a database and a user per owning service."""
    aio.run_coroutine(_provision(ctx))


async def _provision(ctx: LocalContext) -> None:
    import logging

    import asyncmy

    logging.getLogger("asyncmy").setLevel(logging.ERROR)  # "IF NOT EXISTS" notes are expected

    root_pw = ctx.secrets.mysql_root_password
    sock = str(ctx.layout.socket(NAME))
    try:  # after the first provisioning root has the stack's password
        conn = await asyncmy.connect(unix_socket=sock, user="root", password=root_pw)
    except Exception:  # a fresh data directory: root without password, socket only
        conn = await asyncmy.connect(unix_socket=sock, user="root", password="")
    try:
        async with conn.cursor() as cur:
            await cur.execute(f"CREATE USER IF NOT EXISTS 'root'@'{HOST}' IDENTIFIED BY %s", (root_pw,))
            for host in (HOST, "localhost"):
                await cur.execute(f"ALTER USER 'root'@'{host}' IDENTIFIED BY %s", (root_pw,))
            await cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO 'root'@'{HOST}' WITH GRANT OPTION")
            for db in ctx.topology.databases:
                user = mysql_user(db.name)
                password = ctx.secrets.mysql_passwords[db.name]
                await cur.execute(
                    f"CREATE DATABASE IF NOT EXISTS `{db.name}` "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
                await cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'{HOST}' IDENTIFIED BY %s", (password,))
                await cur.execute(f"ALTER USER '{user}'@'{HOST}' IDENTIFIED BY %s", (password,))
                await cur.execute(f"GRANT ALL PRIVILEGES ON `{db.name}`.* TO '{user}'@'{HOST}'")
            await cur.execute("FLUSH PRIVILEGES")
        await conn.commit()
    finally:
        conn.close()
