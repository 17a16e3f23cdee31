"""The build step of the Pulumi CLI: pinned in one place, usable from the shell."""

from __future__ import annotations

import re
import subprocess
import sys

from ecomctl.cloud import pulumi_cli
from ecomctl.settings import REPO_ROOT


def test_the_go_module_pins_the_version_the_cache_is_keyed_by() -> None:
    go_mod = (pulumi_cli.MODULE_DIR / "go.mod").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^\s*(github\.com/pulumi/pulumi/(?:pkg|sdk)/v3) (v\S+)", go_mod, re.M))
    assert pinned == {"github.com/pulumi/pulumi/pkg/v3": f"v{pulumi_cli.VERSION}",
                      "github.com/pulumi/pulumi/sdk/v3": f"v{pulumi_cli.VERSION}"}
    assert re.search(r"^tool github\.com/pulumi/pulumi/pkg/v3/cmd/pulumi$", go_mod, re.M)
    assert "github.com/atotto/clipboard => github.com/tgummerer/clipboard" in go_mod
    go_sum = (pulumi_cli.MODULE_DIR / "go.sum").read_text(encoding="utf-8")
    assert f"github.com/pulumi/pulumi/pkg/v3 v{pulumi_cli.VERSION} h1:" in go_sum


def test_bad_usage_is_one_line_and_exit_2() -> None:
    done = subprocess.run([sys.executable, "-m", "ecomctl.cloud.pulumi_cli", "--bogus"], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("usage: bin/pulumi-cli")
