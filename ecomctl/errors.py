"""Expected failures of ecomctl, each with a one-line message and a hint.

::

    EcomctlError                 anything the CLI reports as one line + hint, exit 1
    ├── ConfigError              bad flag, bad setting, unknown stack or component
    ├── PrerequisiteError        something to install or set (Java, MariaDB, Pulumi CLI, credentials)
    ├── PortInUseError           a port the stack needs is taken by another process
    ├── StartupError             a component did not become healthy (carries its last log lines)
    ├── LockedError              another ecomctl holds the stack's lock
    ├── CancelledByOperator      the operator did not confirm a change (nothing was changed)
    ├── CloudError               a Pulumi engine failure (see ecomctl.cloud)
    ├── DemoError                the demo or the sample data could not use the shop's API
    └── ScaleTestError           a scale test that could not run (exit 2; a broken threshold is exit 1)

The CLI's ``main()`` is the single place that catches them.
"""

from __future__ import annotations


class EcomctlError(Exception):
    """Base: ``message`` is one line; ``hint`` says what to do about it."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, details: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details


class ConfigError(EcomctlError):
    """A flag, setting or name that cannot be used."""


class PrerequisiteError(EcomctlError):
    """Something must be installed or set first."""


class PortInUseError(EcomctlError):
    """A port the stack needs is taken by a process that is not ours."""


class StartupError(EcomctlError):
    """A component did not become healthy in time."""


class LockedError(EcomctlError):
    """Another ecomctl process is changing this stack."""


class CloudError(EcomctlError):
    """A Pulumi engine operation failed."""


class CancelledByOperator(EcomctlError):
    """The operator answered no (or did not type the stack's name): nothing was changed."""


class DemoError(EcomctlError):
    """The demo (or the sample-data seeding) could not use the shop's public API."""


class ScaleTestError(EcomctlError):
    """A scale test could not run (bad profile or threshold, stack not reachable, load generator failed)."""

    exit_code = 2
