from __future__ import annotations

from pathlib import Path

import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.errors import ConfigError
from ecomctl.settings import DEFAULT_PORTS, Settings


def test_defaults_cover_every_service_and_part() -> None:
    s = Settings.load({"HOME": "/home/x"})
    assert s.state_root == Path("/home/x/.local/state/ecomctl")
    assert s.cache_dir == Path("/home/x/.cache/ecomctl")
    assert {svc.name for svc in TOPOLOGY.services} <= set(s.ports)
    assert s.ports["api-gateway"] == 8000 and s.ports["mariadb"] == 13306


def test_offset_and_single_port_override() -> None:
    s = Settings.load({"HOME": "/h", "ECOMCTL_PORT_OFFSET": "100", "ECOMCTL_PORT_KAFKA": "20000"})
    assert s.ports["kafka"] == 20100
    assert s.ports["users"] == DEFAULT_PORTS["users"] + 100


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ECOMCTL_PORT_OFFSET": "x"}, "ECOMCTL_PORT_OFFSET='x' is not an integer"),
        ({"ECOMCTL_PORT_OFFSET": "60000"}, "outside 1-65535"),
        ({"ECOMCTL_PORT_USERS": "8000"}, "two components would bind the same port"),
    ],
)
def test_bad_port_settings_are_clear_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load({"HOME": "/h", **env})


def test_java_home_is_17_or_newer() -> None:
    home = Settings.load().java_home()
    assert (home / "bin" / "java").exists()
