"""The session platform: the whole local stack on real parts, isolated from a developer's own.

It runs in its own state directory and on ports shifted by ``ECOMCTL_TEST_PORT_OFFSET``
(default 20000), so a developer's ``ecomctl up`` stack is never touched. Jars and the Flink
virtualenv are shared caches. The stack starts fresh (an earlier session's is purged);
``ECOMCTL_TEST_KEEP=1`` instead reuses a running one and leaves it running after the session
(``up`` is then a no-op): handy while iterating.
Two test sessions side by side need different ``ECOMCTL_TEST_PORT_OFFSET`` values (the state
directory follows the offset).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ecomctl.local.platform import LocalPlatform
from ecomctl.settings import Settings

TEST_OFFSET = int(os.environ.get("ECOMCTL_TEST_PORT_OFFSET", "20000"))
TEST_STATE = Path(os.environ.get("ECOMCTL_TEST_STATE_DIR", f"/tmp/ecomctl-test-{TEST_OFFSET}"))


def stack_environ(state_dir: Path, offset: int, **extra: str) -> dict[str, str]:
    """The environment of an ``ecomctl`` command aimed at the stack in ``state_dir``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOMCTL_PORT_")}
    env.update(ECOMCTL_STATE_DIR=str(state_dir), ECOMCTL_PORT_OFFSET=str(offset), **extra)
    return env


def make_platform(state_dir: Path, offset: int, **extra: str) -> LocalPlatform:
    return LocalPlatform(Settings.load(stack_environ(state_dir, offset, **extra)))


def run_ecomctl(
    args: list[str], env: Mapping[str, str], timeout: float = 600, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (exit code, stdout and stderr as a user sees them)."""
    return subprocess.run(
        [sys.executable, "-m", "ecomctl", *args], env=dict(env), capture_output=True, text=True,
        timeout=timeout, input=input_text,
    )


@pytest.fixture(scope="session")
def platform() -> Iterator[LocalPlatform]:
    stack = make_platform(TEST_STATE, TEST_OFFSET)
    keep = os.environ.get("ECOMCTL_TEST_KEEP") == "1"
    if not keep:
        stack.down(purge=True)  # a fresh stack: nothing left over from an earlier session
    stack.up()
    yield stack
    if not keep:
        stack.down(purge=True)


@pytest.fixture(name="platform_environ", scope="session")
def fx_platform_environ(platform: LocalPlatform) -> dict[str, str]:
    """The environment of ``ecomctl`` commands aimed at the session platform."""
    return stack_environ(platform.settings.state_root, TEST_OFFSET)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread from its first test to the end of the session, and ``asyncio.run`` (used by many
    tests and by the stack's provisioning) refuses to start inside a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)  # stable
