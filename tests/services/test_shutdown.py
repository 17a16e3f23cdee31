"""SIGTERM stops a service cleanly: the process exits 0 after its lifespan shut down."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform

pytestmark = [pytest.mark.platform, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_orders_stops_cleanly_on_sigterm(platform: LocalPlatform) -> None:
    port = _free_port()
    env = {**os.environ, **platform.service_env("orders"), "PORT": str(port)}
    process = subprocess.Popen([sys.executable, "-m", "services.orders"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the service did not become ready")
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Traceback" not in output
