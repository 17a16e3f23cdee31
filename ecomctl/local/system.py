"""System packages the local stack needs, installed from Debian's archive when missing (as root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence

from ecomctl.errors import PrerequisiteError

_SBIN = ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/local/sbin")


def which(name: str) -> str | None:
    """``shutil.which`` that also looks in sbin folders (not on every user's PATH)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in _SBIN:
        path = os.path.join(folder, name)
        if os.access(path, os.X_OK):
            return path
    return None


def ensure_commands(
    commands: Sequence[str], package: str, hint: str, progress: Callable[[str], None]
) -> list[str]:
    """Paths of ``commands``; installs Debian ``package`` first when one is missing."""
    found = [which(c) for c in commands]
    if all(found):
        return [f for f in found if f]
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise PrerequisiteError(f"{package} is not installed", hint=hint)
    progress(f"installing {package} from Debian packages (once)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = [apt, "install", "-y", "-q", "--no-install-recommends", package]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:  # the package lists may be missing on a new machine
        subprocess.run([apt, "update", "-q"], env=env, capture_output=True, timeout=900)
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    found = [which(c) for c in commands]
    if proc.returncode != 0 or not all(found):
        tail = "\n".join(proc.stderr.strip().splitlines()[-10:])
        raise PrerequisiteError(f"could not install {package}", hint=hint, details=tail)
    return [f for f in found if f]
