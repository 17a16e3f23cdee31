"""Consoles and shared rendering: tables, JSON. ``--json`` prints exactly one object on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_json(obj: Any) -> None:
    """One JSON object on stdout, nothing else (for scripts and CI)."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
