"""Where a cloud stack's Pulumi state lives, its secrets passphrase, and engine errors → ``EcomctlError``.

Each stage (``aws``, ``gcp``, ``k8s``) is a Pulumi stack named after the ecomctl stack in the
project ``ecomctl-<stage>``; its workspace directory (project and stack settings, where Pulumi
keeps the stack's config file with encrypted secrets) is ``<state root>/<stack>/pulumi/<stage>``.

==============================  ===========================================  ===========================
variable                        meaning                                      default
==============================  ===========================================  ===========================
``PULUMI_BACKEND_URL``          any Pulumi backend (``s3://``, ``gs://``,     ``file://<state root>/
                                ``https://api.pulumi.com``, ``file://``)      pulumi-backend``
``PULUMI_CONFIG_PASSPHRASE``    passphrase of the stack's secrets             generated once, stored 0600
                                                                             in ``<stack dir>/passphrase``
``ECOMCTL_SECRETS_PROVIDER``    another secrets provider (``awskms://...``)   ``passphrase``
==============================  ===========================================  ===========================
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ecomctl.cloud.pulumi_cli import BUILD_HINT, find_cli
from ecomctl.errors import CloudError, ConfigError, LockedError, PrerequisiteError

if TYPE_CHECKING:
    from pulumi import automation as auto

INSTALL_PULUMI = (
    f"the Pulumi CLI is not installed: {BUILD_HINT}, or install a release "
    "(`curl -fsSL https://get.pulumi.com | sh`) and put it on PATH; "
    "`ecomctl preview --offline` works without it"
)

_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class CloudSettings:
    """Everything the Automation layer needs to find one stack's state."""

    stack: str
    stack_dir: Path
    backend_url: str
    passphrase_env: str | None = field(default=None, repr=False)
    secrets_provider: str = "passphrase"

    @classmethod
    def load(cls, stack: str, environ: Mapping[str, str] | None = None) -> CloudSettings:
        env = os.environ if environ is None else environ
        if not _STACK_NAME.match(stack) or stack == "local":
            raise ConfigError(
                f"{stack!r} is not a cloud stack name",
                hint="use letters, digits, '-', '_' or '.', e.g. --stack dev (\"local\" is the local stack)",
            )
        state_root = _state_root(env)
        stack_dir = state_root / stack
        backend = env.get("PULUMI_BACKEND_URL") or (state_root / "pulumi-backend").as_uri()
        return cls(
            stack=stack,
            stack_dir=stack_dir,
            backend_url=backend,
            passphrase_env=env.get("PULUMI_CONFIG_PASSPHRASE") or None,
            secrets_provider=env.get("ECOMCTL_SECRETS_PROVIDER") or "passphrase",
        )

    def passphrase(self) -> str:
        """``PULUMI_CONFIG_PASSPHRASE``, else the stack's own, generated on first use (0600)."""
        return self.passphrase_env or _stored_passphrase(self.stack_dir / "passphrase")

    def work_dir(self, stage: str) -> Path:
        return self.stack_dir / "pulumi" / stage

    def env_vars(self) -> dict[str, str]:
        """What every ``pulumi`` process of this stack gets (on top of our own environment)."""
        env = {"PULUMI_BACKEND_URL": self.backend_url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
        if self.secrets_provider == "passphrase":
            env["PULUMI_CONFIG_PASSPHRASE"] = self.passphrase()
        return env


def project_name(stage: str) -> str:
    return f"ecomctl-{stage}"


def _state_root(env: Mapping[str, str]) -> Path:
    try:
        from ecomctl.settings import Settings
    except ImportError:  # pragma: no cover - the lead's settings module is optional for this layer
        home = Path(env.get("HOME", str(Path.home())))
        return Path(env.get("ECOMCTL_STATE_DIR") or home / ".local" / "state" / "ecomctl").expanduser()
    return Settings.load(env).state_root


def _stored_passphrase(path: Path) -> str:
    """The stack's generated passphrase, created on first use with owner-only permissions."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


def require_pulumi_cli() -> str:
    """The ``pulumi`` executable (``pulumi_cli.find_cli``), or a one-line ``PrerequisiteError``."""
    found = find_cli()
    if found is None:
        raise PrerequisiteError(INSTALL_PULUMI)
    return str(found)


@functools.lru_cache(maxsize=4)
def _pulumi_command(executable: str) -> auto.PulumiCommand:
    """One ``PulumiCommand`` per executable and process (making one runs ``pulumi version``)."""
    from pulumi import automation as auto

    path = Path(executable)
    if path.parent.name == "bin":
        return auto.PulumiCommand(root=str(path.parent.parent))
    return auto.PulumiCommand()  # a ``pulumi`` on PATH outside a ``bin`` directory: found by name


def workspace_options(settings: CloudSettings, stage: str) -> auto.LocalWorkspaceOptions:
    from pulumi import automation as auto

    work_dir = settings.work_dir(stage)
    work_dir.mkdir(parents=True, exist_ok=True)
    if settings.backend_url.startswith("file://"):  # the CLI refuses a backend directory that does not exist
        Path(urllib.parse.urlparse(settings.backend_url).path).mkdir(parents=True, exist_ok=True)
    return auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        pulumi_command=_pulumi_command(require_pulumi_cli()),
        env_vars=settings.env_vars(),
        secrets_provider=settings.secrets_provider,
        project_settings=auto.ProjectSettings(
            name=project_name(stage),
            runtime="python",
            backend=auto.ProjectBackend(url=settings.backend_url),
            description=f"ecomctl {stage} stage (driven by `ecomctl up`; do not run by hand)",
        ),
    )


@contextlib.contextmanager
def engine_errors(stack: str, stage: str, operation: str) -> Iterator[None]:
    """Translate what the Automation API raises into one-line ``EcomctlError`` s with a way out."""
    from pulumi.automation import errors as auto_errors

    where = f"stack {stack!r} ({project_name(stage)})"
    try:
        yield
    except FileNotFoundError as exc:
        if exc.filename and os.path.basename(str(exc.filename)) == "pulumi":  # the executable itself
            raise PrerequisiteError(INSTALL_PULUMI) from None
        raise
    except auto_errors.InvalidVersionError as exc:
        raise PrerequisiteError(
            f"the installed Pulumi CLI cannot be used: {exc}",
            hint="install a current release: curl -fsSL https://get.pulumi.com | sh",
        ) from None
    except auto_errors.ConcurrentUpdateError:
        raise LockedError(
            f"{where} is locked: another update is in progress or was interrupted",
            hint=(
                f"wait for the other update to finish; if none is running, release the lock with "
                f"`ecomctl cancel --stack {stack}` and run `ecomctl {operation} --stack {stack}` again"
            ),
        ) from None
    except auto_errors.StackNotFoundError:
        raise ConfigError(
            f"{where} does not exist yet", hint=f"create it with `ecomctl up --stack {stack}`"
        ) from None
    except auto_errors.CommandError as exc:
        lines = _error_lines(str(exc))
        raise CloudError(
            f"{operation} of {where} failed: {lines[0] if lines else 'the pulumi command failed'}",
            hint=(
                "fix the cause and run the same command again: Pulumi records what was done, "
                "a re-run continues from there"
            ),
            details="\n".join(lines[1:6]) or None,
        ) from None


_GENERIC = re.compile(r"^(update|preview|destroy|refresh) (failed|canceled)$")


def _error_lines(text: str) -> list[str]:
    """The ``error:`` lines of a failed pulumi command, the specific causes before the generic ones."""
    found: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"^\s*(stdout|stderr):\s*", "", raw).strip()
        if line.lower().startswith("error:"):
            msg = line[len("error:"):].strip()
            if msg and msg not in found:
                found.append(msg)
    return sorted(found, key=lambda m: bool(_GENERIC.match(m)))
