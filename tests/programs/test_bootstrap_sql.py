"""The MySQL bootstrap script the Kubernetes stage renders, run against the test stack's real
MariaDB the way the bootstrap Job runs it (a file piped into the ``mysql`` client as the admin),
then each service user logs in with its password and uses its own schema, and only that.

Names get a prefix so the stack's own schemas and users are untouched; the passwords are the
awkward kind (quotes, backslashes, a semicolon, a comment marker) a literal must survive.
"""

from __future__ import annotations

import subprocess

import asyncmy
import pytest

from blueprint.topology import TOPOLOGY
from blueprint.wiring import mysql_user
from ecomctl.local.platform import LocalPlatform
from programs.manifests import mysql_bootstrap_sql

PREFIX = "bt_"
AWKWARD = ["it's; -- a \\\\ test \"pw\" `x`", "O'Reilly\\\\'; DROP DATABASE mysql; --", "plain-Pass_1.~"]


def _run_script(platform: LocalPlatform, sql: str) -> subprocess.CompletedProcess[str]:
    """As the Job: ``mysql -h -P -u <admin> < bootstrap.sql`` with the password in MYSQL_PWD."""
    return subprocess.run(
        ["mysql", "--no-defaults", "--protocol=TCP", "-h", platform.mysql_host, "-P", str(platform.mysql_port),
         "-u", "root"], input=sql, capture_output=True, text=True, timeout=60,
        env={"MYSQL_PWD": platform.mysql_root_password, "PATH": "/usr/bin:/bin"})


async def _login(platform: LocalPlatform, user: str, password: str, database: str) -> list[str]:
    conn = await asyncmy.connect(host=platform.mysql_host, port=platform.mysql_port, user=user,
                                 password=password, database=database)
    try:
        async with conn.cursor() as cur:
            await cur.execute("CREATE TABLE IF NOT EXISTS probe (id INT PRIMARY KEY)")
            await cur.execute("SHOW DATABASES")
            return sorted(row[0] for row in await cur.fetchall())
    finally:
        conn.close()


@pytest.fixture(name="users")
def fx_users(platform: LocalPlatform) -> dict[str, tuple[str, str]]:
    users = {f"{PREFIX}{d.name}": (mysql_user(f"{PREFIX}{d.name}"), AWKWARD[i % len(AWKWARD)])
             for i, d in enumerate(TOPOLOGY.databases)}
    yield users
    _run_script(platform, "".join(f"DROP USER IF EXISTS '{u}'@'%'; DROP DATABASE IF EXISTS `{db}`;\n"
                                  for db, (u, _) in users.items()))


async def test_the_bootstrap_script_runs_and_every_user_can_log_in(platform: LocalPlatform,
                                                                   users: dict[str, tuple[str, str]]) -> None:
    done = _run_script(platform, mysql_bootstrap_sql(users))
    assert done.returncode == 0, done.stderr
    for db, (user, password) in users.items():
        visible = await _login(platform, user, password, db)
        assert db in visible and not {other for other in users if other != db} & set(visible)  # its schema only
    again = _run_script(platform, mysql_bootstrap_sql(users))  # every `up` runs the Job again
    assert again.returncode == 0, again.stderr


async def test_a_rerun_resets_a_changed_password(platform: LocalPlatform, users: dict[str, tuple[str, str]]) -> None:
    assert _run_script(platform, mysql_bootstrap_sql(users)).returncode == 0
    db, (user, old) = next(iter(users.items()))
    rotated = {**users, db: (user, old + "-rotated")}
    assert _run_script(platform, mysql_bootstrap_sql(rotated)).returncode == 0
    with pytest.raises(asyncmy.errors.OperationalError):
        await _login(platform, user, old, db)
    assert db in await _login(platform, user, old + "-rotated", db)
