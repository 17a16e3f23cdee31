"""The Pulumi CLI that ecomctl drives: built once from its Go module and cached, else one on PATH.

Pulumi's release downloads are not reachable from every machine, but its Go module is: the
module in ``tools/pulumi`` (``go.mod``/``go.sum`` committed) pins the CLI's version, and
``build()`` compiles it into ``<cache dir>/pulumi/v<VERSION>/bin/pulumi`` (``~/.cache/ecomctl``
unless ``ECOMCTL_CACHE_DIR``/``XDG_CACHE_HOME`` say otherwise). The first build takes minutes on
two cores and about 1.4 GB of Go module cache; later calls reuse the binary. ``bin/pulumi-cli``
(and ``python -m ecomctl.cloud.pulumi_cli``) runs it; ``bin/test`` runs it before the suite.

``find_cli()`` prefers that build (its version is the one the programs are tested with) and falls
back to a ``pulumi`` on PATH (an official release works as well).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from ecomctl.errors import PrerequisiteError
from ecomctl.settings import REPO_ROOT, Settings

VERSION = "3.276.0"
"""The CLI's version: ``tools/pulumi/go.mod`` requires ``pkg/v3`` and ``sdk/v3`` at ``v<VERSION>``."""

MODULE_DIR = REPO_ROOT / "tools" / "pulumi"
PACKAGE = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
_VERSION_VAR = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
_GO_TARBALL_BIN = "/usr/local/go/bin"  # where go.dev's archive installs, often not on PATH

BUILD_HINT = "build it with `bin/pulumi-cli` (needs Go; a few minutes once, then cached)"


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``<cache dir>/pulumi/v<VERSION>``: ``bin/pulumi`` inside is what ``auto.PulumiCommand`` runs."""
    return Settings.load(environ).cache_dir / "pulumi" / f"v{VERSION}"


def find_cli(environ: Mapping[str, str] | None = None) -> Path | None:
    """The cached build of the pinned version, else ``pulumi`` on PATH, else ``None``."""
    env = os.environ if environ is None else environ
    built = cache_root(env) / "bin" / "pulumi"
    if os.access(built, os.X_OK):
        return built
    found = shutil.which("pulumi", path=env.get("PATH"))
    return Path(found) if found else None


def build(environ: Mapping[str, str] | None = None, quiet: bool = False) -> Path:
    """The cached CLI, built first if it is not there yet (one build at a time per cache dir)."""
    env = dict(os.environ if environ is None else environ)
    root = cache_root(env)
    binary = root / "bin" / "pulumi"
    if os.access(binary, os.X_OK):
        return binary
    go = shutil.which("go", path=os.pathsep.join([env.get("PATH", ""), _GO_TARBALL_BIN]))
    if go is None:
        raise PrerequisiteError(
            "Go is needed to build the Pulumi CLI",
            hint="install Go 1.21 or newer from https://go.dev/dl (it fetches the toolchain "
                 "tools/pulumi/go.mod names), or install a Pulumi release on PATH",
        )
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / ".build.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building the same version
        if os.access(binary, os.X_OK):
            return binary
        staging = root.with_name(f"{root.name}.building-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        if not quiet:
            print(f"building the Pulumi CLI v{VERSION} from its Go module into {root} "
                  "(first time only: a few minutes)", file=sys.stderr, flush=True)
        cmd = [go, "build", "-trimpath", "-ldflags", f"-X {_VERSION_VAR}=v{VERSION}",
               "-o", str(staging / "bin" / "pulumi"), PACKAGE]
        done = subprocess.run(cmd, cwd=MODULE_DIR, env={**env, "GOFLAGS": "-mod=readonly"},
                              stdout=subprocess.DEVNULL if quiet else sys.stderr,
                              stderr=subprocess.PIPE, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = " ".join(done.stderr.strip().splitlines()[-3:])
            raise PrerequisiteError(f"building the Pulumi CLI failed: {tail}",
                                    hint=f"run `cd {MODULE_DIR} && {' '.join(cmd[:2])} ...` to see why")
        reported = installed_version(staging / "bin" / "pulumi")
        if reported != f"v{VERSION}":
            shutil.rmtree(staging, ignore_errors=True)
            raise PrerequisiteError(f"the Pulumi CLI just built reports version {reported!r}, not v{VERSION}")
        os.replace(staging, root)
    return binary


def installed_version(binary: Path) -> str:
    """What ``pulumi version`` prints (``""`` when it does not run)."""
    try:
        done = subprocess.run([str(binary), "version"], capture_output=True, text=True, timeout=30,
                              env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """``bin/pulumi-cli``: build (or find) the cached CLI and print its path."""
    args = sys.argv[1:] if argv is None else argv
    if args not in ([], ["--path"]):
        print("usage: bin/pulumi-cli [--path]  (--path: print the cached CLI's path, build nothing)",
              file=sys.stderr)
        return 2
    if args == ["--path"]:
        binary = cache_root() / "bin" / "pulumi"
        print(binary)
        return 0 if os.access(binary, os.X_OK) else 1
    try:
        print(build())
    except PrerequisiteError as exc:
        print(f"error: {exc.message}" + (f"\nhint: {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
