"""Property-based runs of schemathesis against the gateway's OpenAPI document, once per role
(anonymous, a user, the admin): no 5xx, ever.

Each run makes at least ``ECOMCTL_FUZZ_REQUESTS`` requests (default 1,000; counted from the run's
HAR report, not estimated): schemathesis generates per operation, so the examples per operation
scale with it (15 examples per operation make 1,150-1,230 requests per role over the 22
operations). Three runs take about 30 s of wall clock and 21 CPU-seconds of schemathesis on an
idle 2-core machine; each is bounded by ``RUN_TIMEOUT_S``.

The anonymous run sends no credentials of ours (schemathesis still registers and logs in on its
own, and sends malformed tokens). The user and admin runs send that role's token and leave
``POST /api/auth/logout`` out: it would revoke the token, and every later request would then be
an anonymous 401 (the authorization matrix in ``tests/security`` covers logout).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.services.conftest import Account, login

pytestmark = [pytest.mark.platform, pytest.mark.slow]

REQUESTS_PER_ROLE = int(os.environ.get("ECOMCTL_FUZZ_REQUESTS", "1000"))
EXAMPLES = max(15, math.ceil(15 * REQUESTS_PER_ROLE / 1000))
RUN_TIMEOUT_S = 150
ROLES = ("anonymous", "user", "admin")


def fuzz(gateway_url: str, report: Path, token: str | None) -> subprocess.CompletedProcess[str]:
    """One schemathesis run (``not_a_server_error`` only), every request recorded in ``report`` (HAR)."""
    executable = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    auth = [] if token is None else ["-H", f"Authorization: Bearer {token}", "--exclude-path", "/api/auth/logout"]
    # One worker: with two threads, CPython 3.11's AST conversion can raise a spurious
    # "SystemError: AST constructor recursion depth mismatch" inside schemathesis (python/cpython#106905).
    return subprocess.run(
        [executable, "run", f"{gateway_url}/schema", "--checks", "not_a_server_error",
         "--max-examples", str(EXAMPLES), "--workers", "1", "--request-timeout", "10", "--seed", "20261124",
         *auth, "--report", "har", "--report-har-path", str(report)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )


@pytest.mark.parametrize("role", ROLES)
def test_no_server_errors(platform: LocalPlatform, api: httpx.Client, new_user: Callable[[], Account],
                          tmp_path: Path, role: str) -> None:
    assert httpx.get(f"{platform.gateway_url}/schema").status_code == 200
    token = {"anonymous": lambda: None, "user": lambda: new_user().token,
             "admin": lambda: login(api, platform.admin_email, platform.admin_password)}[role]()
    report = tmp_path / "run.har"
    run = fuzz(platform.gateway_url, report, token)
    tail = "\n".join(run.stdout.splitlines()[-40:])
    entries = json.loads(report.read_text())["log"]["entries"]
    statuses = Counter(int(entry["response"]["status"]) for entry in entries)
    server_errors = [(e["request"]["method"], e["request"]["url"], e["response"]["status"]) for e in entries
                     if int(e["response"]["status"]) >= 500]
    print(f"{role}: {len(entries)} requests, statuses {dict(sorted(statuses.items()))}")
    assert server_errors == [], server_errors[:10]
    assert run.returncode == 0, tail
    assert len(entries) >= REQUESTS_PER_ROLE, (len(entries), tail)
    if token is not None:  # the role was exercised: its token opened routes an anonymous caller cannot
        opened = [e for e in entries if e["request"]["url"].split("?")[0].endswith(("/api/orders", "/api/users/me"))
                  and int(e["response"]["status"]) == 200]
        assert opened, statuses
