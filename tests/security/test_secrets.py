"""No secret of the stack leaks: not into any file under its state directory (logs included) but the
secret store and the per-process environment files, both owner-only, and not into what the CLI
prints (``credentials`` shows the admin login: that password, and only it, is meant to appear
there) or what a service serves (health, readiness, metrics, the OpenAPI document).

The secrets are read from the stack's own store (``secrets.json``); requests that carry the admin
password (a login, and a failed login under another e-mail) go first, so a service that logged
request bodies would be caught.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.conftest import run_ecomctl
from tests.services.conftest import login

pytestmark = pytest.mark.platform

HOLDERS = ("secrets.json", "run/*.env.json")  # where the secrets are meant to be, owner-only
CLI = [["status"], ["status", "--json"], ["outputs"], ["outputs", "--json"], ["credentials"], ["credentials", "--json"]]


def stack_secrets(state_dir: Path) -> dict[str, str]:
    """name -> value of every generated secret of the stack."""
    stored = json.loads((state_dir / "secrets.json").read_text())
    found = {"admin_password": stored["admin_password"], "jwt_secret": stored["jwt_secret"],
             "mysql_root_password": stored["mysql_root_password"]}
    found.update({f"mysql_password[{db}]": value for db, value in stored["mysql_passwords"].items()})
    assert all(len(value) >= 16 for value in found.values())
    return found


def leaks(text: bytes, secrets: dict[str, str]) -> list[str]:
    return [name for name, value in secrets.items() if value.encode() in text]


def test_no_file_of_the_stack_holds_a_secret_but_the_owner_only_stores(
    platform: LocalPlatform, api: httpx.Client
) -> None:
    secrets = stack_secrets(platform.state_dir)
    login(api, platform.admin_email, platform.admin_password)
    wrong = api.post("/api/auth/login", json={"email": "nobody@example.com", "password": platform.admin_password})
    assert wrong.status_code == 401
    holders = {path for pattern in HOLDERS for path in platform.state_dir.glob(pattern)}
    assert len(holders) > 1
    found: dict[str, list[str]] = {}
    scanned_logs = 0
    for path in sorted(platform.state_dir.rglob("*")):
        if not path.is_file() or path in holders:
            continue
        try:
            content = path.read_bytes()
        except OSError:  # a socket or a file removed meanwhile
            continue
        scanned_logs += path.parent.name == "logs"
        if names := leaks(content, secrets):
            found[str(path.relative_to(platform.state_dir))] = names
    assert found == {}
    assert scanned_logs >= 10  # every component's log was read
    assert {str(p.relative_to(platform.state_dir)): stat.S_IMODE(p.stat().st_mode) & 0o077 for p in holders} == {
        str(p.relative_to(platform.state_dir)): 0 for p in holders}


def test_cli_outputs_show_no_secret_but_the_admin_login(platform: LocalPlatform,
                                                         platform_environ: dict[str, str]) -> None:
    secrets = stack_secrets(platform.state_dir)
    shown: dict[str, list[str]] = {}
    for args in CLI:
        run = run_ecomctl(args, platform_environ, timeout=120)
        assert run.returncode in (0, 3), (args, run.stderr)  # 3: status found a component unhealthy
        allowed = {"admin_password"} if args[0] == "credentials" else set()
        if names := [n for n in leaks((run.stdout + run.stderr).encode(), secrets) if n not in allowed]:
            shown[" ".join(args)] = names
    assert shown == {}
    credentials = run_ecomctl(["credentials", "--json"], platform_environ, timeout=120)
    assert platform.admin_password in credentials.stdout  # what credentials is for


def test_no_service_serves_a_secret(platform: LocalPlatform) -> None:
    secrets = stack_secrets(platform.state_dir)
    urls = [f"{platform.gateway_url}/schema"]
    for name in ("api-gateway", "users", "products", "orders", "notifications", "analytics"):
        port = platform.service_env(name)["PORT"]
        urls += [f"http://127.0.0.1:{port}{path}" for path in ("/health", "/ready", "/metrics")]
    served = {url: leaks(httpx.get(url, timeout=15).content, secrets) for url in urls}
    assert {url: names for url, names in served.items() if names} == {}
