"""``ecomctl chaos`` refuses what it cannot do before touching anything: usage errors exit 2, a cloud stack 1."""

from __future__ import annotations

import pytest

from tests.cli.test_usage_errors import assert_one_line_usage_error, ecomctl


@pytest.mark.parametrize(("args", "expected"), [
    (("chaos", "kill", "nope"), "no component named 'nope'"),
    (("chaos", "latency", "mariadb"), "latency applies to a service"),
    (("chaos", "stop", "kafka", "--for", "301"), "'--for'"),
    (("chaos", "pause", "kafka", "--for", "0"), "'--for'"),
    (("chaos", "latency", "orders", "--ms", "0"), "'--ms'"),
    (("chaos", "explode", "kafka"), "No such command 'explode'"),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_a_usage_error(args: tuple[str, ...], expected: str) -> None:
    assert_one_line_usage_error(ecomctl(*args), expected)


def test_a_cloud_stack_is_refused() -> None:
    done = ecomctl("chaos", "kill", "orders", "--stack", "prod")
    assert done.returncode == 1, done.stderr
    assert "local stack only" in done.stderr.splitlines()[0]
    assert "Traceback" not in done.stderr
