"""The storefront's CSP lets the page POST uploads to the storage endpoint, and nothing else."""

from __future__ import annotations

import urllib.request

import pytest

from ecomctl.local.platform import LocalPlatform

pytestmark = [pytest.mark.platform]


def test_csp_allows_self_and_the_upload_endpoint_only(platform: LocalPlatform) -> None:
    with urllib.request.urlopen(f"{platform.gateway_url}/", timeout=5) as resp:
        csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["connect-src"].split() == ["'self'", platform.aws_env["AWS_ENDPOINT_URL"]]
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp
