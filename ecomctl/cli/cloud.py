"""CLI for cloud stacks (any --stack other than ``local``): owned by the Automation layer.

``ecomctl.cli.stack`` dispatches here for non-local stacks. Placeholder until the Automation
API layer (``ecomctl.cloud``) lands: every entry point fails with a clear message.
"""

from __future__ import annotations

import typer

from ecomctl.errors import PrerequisiteError


def register(app: typer.Typer) -> None:
    """Add the cloud-only commands (config, refresh, render, ...) to ``app``."""


def _not_yet(stack: str) -> PrerequisiteError:
    return PrerequisiteError(
        f"cloud stack {stack!r}: the Pulumi Automation layer is not available in this build",
        hint="use the local stack (no --stack)",
    )


def up(stack: str, yes: bool) -> None:
    raise _not_yet(stack)


def down(stack: str, yes: bool, purge: bool) -> None:
    raise _not_yet(stack)


def status(stack: str, as_json: bool) -> None:
    raise _not_yet(stack)


def preview(stack: str, offline: bool, as_json: bool) -> None:
    raise _not_yet(stack)


def outputs(stack: str, as_json: bool) -> None:
    raise _not_yet(stack)


def credentials(stack: str, as_json: bool) -> None:
    raise _not_yet(stack)
