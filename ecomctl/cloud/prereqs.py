"""What a cloud ``up`` needs on this machine: the Pulumi CLI and AWS and Google Cloud credentials.

Presence checks only (no network call): they say *what to install or set*, in one line each.
``cloud_checks()`` feeds ``ecomctl doctor``; ``require_cloud_credentials()`` guards ``up``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

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
    found = shutil.which("docker")
    if found is None:
        return ("Docker (image builds)", False, "not on PATH",
                "install Docker with buildx: the aws stage builds and pushes the service images")
    return ("Docker (image builds)", True, found, "")


def cloud_checks() -> list[CheckRow]:
    """For ``ecomctl doctor``: (name, ok, detail, fix) per cloud prerequisite."""
    return [pulumi_check(), aws_check(), gcp_check(), docker_check()]


def require_cloud_credentials(environ: Mapping[str, str] | None = None) -> None:
    """Raise one ``PrerequisiteError`` naming the first missing credential and how to set it."""
    for name, ok, _detail, fix in (aws_check(environ), gcp_check(environ)):
        if not ok:
            raise PrerequisiteError(f"no {name} found: {fix}; `ecomctl preview --offline` works without them")
