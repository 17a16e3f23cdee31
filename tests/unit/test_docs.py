"""The README's component table cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from blueprint.topology import TOPOLOGY
from ecomctl.local.platform import component_names
from ecomctl.settings import DEFAULT_PORTS, REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _rows() -> dict[str, str]:
    rows = {}
    for line in README.splitlines():
        m = re.match(r"\| `([a-z-]+)`(?: … `[a-z-]+`)? \| .+ \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_every_component_is_in_the_readme_with_its_default_port() -> None:
    rows = _rows()
    services = [s.name for s in TOPOLOGY.services]
    for name in component_names():
        key = services[0] if name in services else name
        assert key in rows, f"{name} missing from the README's component table"
    for name in ("mariadb", "kafka", "dynamodb", "awsapi"):
        assert rows[name].split()[0] == str(DEFAULT_PORTS[name])
    first, last = TOPOLOGY.services[0].port, TOPOLOGY.services[-1].port
    assert rows[services[0]] == f"{first}–{last}"


def test_the_quick_start_is_two_commands_that_exist() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [ln.split("#")[0].strip() for ln in block.strip().splitlines()]
    assert commands == ["bin/ecomctl up", "bin/test"]
    for cmd in commands:
        assert Path(REPO_ROOT, cmd.split()[0]).stat().st_mode & 0o111
    assert "bin/test" in (REPO_ROOT / ".ci" / "run").read_text()
