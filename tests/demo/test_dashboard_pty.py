"""The live dashboard in a real terminal (tmux): it draws, updates, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.platform, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


class Tmux:
    """One detached tmux session on a private server socket."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True,
                              text=True, timeout=20).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-J", "-t", "demo", "-S", "-200")

    def wait_for(self, pattern: str, timeout_s: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout_s
        while True:
            found = list(re.finditer(pattern, self.screen()))
            if found:
                return found[-1]  # the newest frame
            assert time.monotonic() < deadline, f"{pattern!r} not on screen:\n{self.screen()}"
            time.sleep(0.5)


@pytest.fixture(name="tmux")
def fx_tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: apt-get install -y tmux")
    tmux = Tmux(f"ecomctl-demo-{uuid.uuid4().hex[:8]}")
    yield tmux
    subprocess.run(["tmux", "-L", tmux.socket, "kill-server"], capture_output=True, timeout=20)


@pytest.mark.timeout(300)
def test_dashboard_draws_updates_and_ends_on_ctrl_c(tmux: Tmux, platform_environ: dict[str, str]) -> None:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in platform_environ.items() if k.startswith("ECOMCTL_"))
    command = (f"cd {shlex.quote(str(ROOT))} && env {env} TERM=xterm-256color COLUMNS=140 LINES=60 "
               f"{shlex.quote(sys.executable)} -m ecomctl demo --rate 1 2>&1; echo DEMO-EXIT=$?; sleep 600")
    tmux.run("new-session", "-d", "-s", "demo", "-x", "140", "-y", "60", command)

    tmux.wait_for(r"Traffic \(client-side", 120)
    seen = {int(tmux.wait_for(r"ecomctl demo .* (\d+) s \(Ctrl-C", 10).group(1))}
    deadline = time.monotonic() + 60
    while len(seen) < 3 and time.monotonic() < deadline:  # the first draw and at least two updates
        seen.add(int(tmux.wait_for(r"ecomctl demo .* (\d+) s \(Ctrl-C", 10).group(1)))
        time.sleep(0.7)
    assert len(seen) >= 3, seen
    tmux.wait_for(r"catalogue\W+\d", 30)  # the traffic table has rows

    tmux.run("send-keys", "-t", "demo", "C-c")
    tmux.wait_for(r"DEMO-EXIT=\d+", 90)
    screen = tmux.screen()
    assert "DEMO-EXIT=0" in screen, screen
    assert "Demo summary" in screen and "orders placed" in screen
    assert "Traceback" not in screen and "KeyboardInterrupt" not in screen
