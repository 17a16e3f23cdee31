"""``ecomctl doctor``: every prerequisite, whether it is there, and how to fix it."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass

from ecomctl.errors import EcomctlError
from ecomctl.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    scope: str = "local"  # "local": needed by `ecomctl up`; "cloud": needed by cloud stacks; "tools": tests/benchmarks

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix, "scope": self.scope}


def run_checks(settings: Settings) -> list[Check]:
    checks = [_python(), _java(settings), _maven(), _mariadb(), _jars(settings), _dynoxide(settings),
              _flink_env(settings)]
    checks += [_tool("wrk", "apt-get install -y wrk", "tools"),
               _tool("chromium", "apt-get install -y --no-install-recommends chromium", "tools")]
    checks += _cloud()
    return checks


def _python() -> Check:
    ok = sys.version_info[:2] == (3, 11)
    return Check("python", ok, sys.version.split()[0], "" if ok else "use Python 3.11 (bin/bootstrap)")


def _java(settings: Settings) -> Check:
    try:
        home = settings.java_home()
    except EcomctlError as exc:
        return Check("java 17+", False, exc.message, exc.hint or "")
    return Check("java 17+", True, str(home))


def _maven() -> Check:
    mvn = shutil.which("mvn")
    return Check("maven (fetches jars once)", mvn is not None, mvn or "not found",
                 "" if mvn else "apt-get install -y maven (macOS: brew install maven)")


def _mariadb() -> Check:
    from ecomctl.local import mariadb

    found = mariadb.binaries()
    auto = "; `ecomctl up` installs it (root + apt)" if os.geteuid() == 0 and shutil.which("apt-get") else ""
    return Check("mariadb", found is not None, found[0] if found else f"not installed{auto}",
                 "" if found else mariadb.install_hint())


def _jars(settings: Settings) -> Check:
    jars = settings.cache_dir / "jars"
    done = sorted(p.name for p in jars.glob("kafka-*") if (p / ".complete").exists()) if jars.is_dir() else []
    return Check("kafka jars", bool(done), f"{jars}: {', '.join(done) or 'none yet'}",
                 "" if done else "fetched from Maven Central by the first `ecomctl up`")


def _dynoxide(settings: Settings) -> Check:
    from ecomctl.local import dynamodb

    found = dynamodb.installed(settings)
    return Check(f"dynoxide {dynamodb.VERSION} (the local DynamoDB)", found is not None,
                 str(found) if found else "not fetched yet",
                 "" if found else "fetched from the npm registry by the first `ecomctl up` (needs npm)")


def _flink_env(settings: Settings) -> Check:
    venv = settings.repo_root / ".venv-flink" / "bin" / "python"
    return Check("flink virtualenv", venv.exists(), str(venv) if venv.exists() else "not created yet",
                 "" if venv.exists() else "created by the first `ecomctl up` (~35 s)")


def _tool(name: str, fix: str, scope: str) -> Check:
    path = shutil.which(name)
    return Check(name, path is not None, path or "not found", "" if path else fix, scope)


def _cloud() -> list[Check]:
    from ecomctl.cloud import prereqs

    return [Check(n, ok, d, f, "cloud") for (n, ok, d, f) in prereqs.cloud_checks()]
