"""What a cloud ``up`` needs on this machine: tools, credentials, and a way to reach what it builds.

Presence checks only (no network call): they say *what to install or set*, in one line each.
``cloud_checks()`` feeds ``ecomctl doctor``; ``preflight()`` runs before the first stage of ``up``
changes anything: the Pulumi CLI, then every need the stages declare (``Stage.needs``: the
aws stage builds images with Docker, the k8s stage reaches the EKS API with the aws CLI).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecomctl.cloud.pulumi_cli import cache_root, find_cli, installed_version
from ecomctl.cloud.workspace import INSTALL_PULUMI
from ecomctl.errors import PrerequisiteError

CheckRow = tuple[str, bool, str, str]  # (name, ok, detail, fix)

AWS_FIX = ("set AWS credentials: `aws configure` (or AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
           "AWS_SECRET_ACCESS_KEY)")
GCP_FIX = ("set Google Cloud credentials: `gcloud auth application-default login` "
           "(or GOOGLE_APPLICATION_CREDENTIALS=<service-account key file>)")


def pulumi_check() -> CheckRow:
    found = find_cli()
    if found is None:
        return ("Pulumi CLI", False, f"not built in {cache_root()} and not on PATH", INSTALL_PULUMI)
    version = installed_version(found)
    if not version:
        return ("Pulumi CLI", False, f"{found} does not run", INSTALL_PULUMI)
    return ("Pulumi CLI", True, f"{version} at {found}", "")


def aws_check(environ: Mapping[str, str] | None = None) -> CheckRow:
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return ("AWS credentials", True, "AWS_ACCESS_KEY_ID in the environment", "")
    if env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return ("AWS credentials", True, "web identity / container credentials", "")
    for name in ("AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        if env.get(name) and Path(env[name]).is_file():
            return ("AWS credentials", True, f"{name}={env[name]}", "")
    for path in (home / ".aws" / "credentials", home / ".aws" / "config"):
        if path.is_file():
            profile = env.get("AWS_PROFILE", "default")
            return ("AWS credentials", True, f"profile {profile!r} in {path}", "")
    return ("AWS credentials", False, "none found", AWS_FIX)


def gcp_check(environ: Mapping[str, str] | None = None) -> CheckRow:
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME", str(Path.home())))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS", "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE"):
        value = env.get(name)
        if value and (Path(value).is_file() or value.lstrip().startswith("{")):
            return ("Google Cloud credentials", True, f"{name}", "")
    if env.get("GOOGLE_OAUTH_ACCESS_TOKEN"):
        return ("Google Cloud credentials", True, "GOOGLE_OAUTH_ACCESS_TOKEN", "")
    config_dir = Path(env.get("CLOUDSDK_CONFIG") or home / ".config" / "gcloud")
    adc = config_dir / "application_default_credentials.json"
    if adc.is_file():
        return ("Google Cloud credentials", True, f"application default credentials in {adc}", "")
    return ("Google Cloud credentials", False, "none found", GCP_FIX)


def docker_check() -> CheckRow:
    """The docker CLI and an engine that answers it (the aws stage builds and pushes the images)."""
    name = "Docker (image builds)"
    fix = "install Docker with buildx: the aws stage builds and pushes the service images"
    found = shutil.which("docker")
    if found is None:
        return (name, False, "not on PATH", fix)
    try:
        done = subprocess.run([found, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return (name, False, f"{found} does not run: {exc}", fix)
    if done.returncode != 0 or not done.stdout.strip():
        return (name, False, f"{found} finds no Docker engine", "start the Docker engine (or set DOCKER_HOST)")
    return (name, True, f"engine {done.stdout.strip()} via {found}", "")


def aws_cli_check() -> CheckRow:
    found = shutil.which("aws")
    if found is None:
        return ("AWS CLI (kubeconfig)", False, "not on PATH",
                "install the AWS CLI v2: the k8s stage's kubeconfig runs `aws eks get-token`")
    return ("AWS CLI (kubeconfig)", True, found, "")


def eks_api_check(admin_cidrs: Sequence[str], stack: str) -> CheckRow:
    """The EKS API endpoint is private unless ``admin_cidrs`` is set: the k8s stage could not reach it."""
    if admin_cidrs:
        return ("EKS API reachable", True, f"public endpoint for {', '.join(admin_cidrs)}", "")
    return ("EKS API reachable", False, "the EKS API endpoint is private (admin_cidrs is empty), so the k8s "
            "stage cannot reach it from this machine",
            f"ecomctl config set admin_cidrs <this machine's public IP>/32 --stack {stack}")


CHECKS: dict[str, Callable[[Mapping[str, str], Any, str], CheckRow]] = {
    "aws-credentials": lambda env, cfg, stack: aws_check(env),
    "gcp-credentials": lambda env, cfg, stack: gcp_check(env),
    "docker": lambda env, cfg, stack: docker_check(),
    "aws-cli": lambda env, cfg, stack: aws_cli_check(),
    "eks-api": lambda env, cfg, stack: eks_api_check(tuple(getattr(cfg, "admin_cidrs", ())), stack),
}
"""Each need a stage may declare, and its check: (environment, the stack's config, stack name)."""


def cloud_checks() -> list[CheckRow]:
    """For ``ecomctl doctor``: (name, ok, detail, fix) per cloud prerequisite."""
    return [pulumi_check(), aws_check(), gcp_check(), docker_check(), aws_cli_check()]


def preflight(needs: Iterable[str], cfg: Any, stack: str,
              environ: Mapping[str, str] | None = None) -> list[CheckRow]:
    """The Pulumi CLI, then each distinct need in order: (name, ok, detail, fix) rows."""
    env = os.environ if environ is None else environ
    rows = [pulumi_check()]
    for need in dict.fromkeys(needs):
        check = CHECKS.get(need)
        rows.append(check(env, cfg, stack) if check is not None
                    else (need, False, "unknown need declared by a stage", f"one of: {', '.join(CHECKS)}"))
    return rows


def require(rows: Iterable[CheckRow]) -> None:
    """Raise one ``PrerequisiteError`` for the first failed row, saying how to fix it."""
    for name, ok, detail, fix in rows:
        if ok:
            continue
        if name == "Pulumi CLI":
            raise PrerequisiteError(fix)
        if detail == "none found":
            raise PrerequisiteError(f"no {name} found: {fix}; `ecomctl preview --offline` works without them")
        raise PrerequisiteError(f"{name}: {detail}", hint=fix)


def require_cloud_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Raise one ``PrerequisiteError`` naming the first missing credential and how to set it."""
    require([aws_check(environ), gcp_check(environ)])
