"""Health probes: small, fast, bounded by short timeouts (never hang ``up`` or ``status``)."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from ecomctl.local.spec import ProbeResult


def tcp(host: str, port: int, timeout: float = 0.5) -> ProbeResult:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return ProbeResult(True, f"{host}:{port} accepts connections")
    except OSError as exc:
        return ProbeResult(False, f"{host}:{port}: {exc.strerror or exc}")


def mysql_greeting(host: str, port: int, timeout: float = 0.5) -> ProbeResult:
    """The server sends its handshake packet on connect: proof it is serving, not just bound."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            packet = sock.recv(128)
    except OSError as exc:
        return ProbeResult(False, f"{host}:{port}: {exc.strerror or exc}")
    if len(packet) > 5 and packet[4] == 10:  # protocol version 10 handshake
        return ProbeResult(True, "handshake received")
    return ProbeResult(False, "no MySQL handshake (server starting?)")


def http_status(url: str, expect: int = 200, timeout: float = 1.0) -> ProbeResult:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            status = resp.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return ProbeResult(False, f"{url}: {reason}")
    if expect == 0 or status == expect:
        return ProbeResult(True, f"HTTP {status}")
    return ProbeResult(False, f"{url}: HTTP {status}")


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something listens on ``host:port`` (or the address cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False

