"""Stack settings, the secrets passphrase and the mapping of engine errors to one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult

from ecomctl.cloud.workspace import CloudSettings, engine_errors
from ecomctl.errors import CloudError, ConfigError, LockedError, PrerequisiteError


def test_passphrase_is_generated_once_owner_only_and_never_in_repr(tmp_path: Path) -> None:
    env = {"ECOMCTL_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)}
    settings = CloudSettings.load("dev", env)
    assert settings.backend_url == (tmp_path / "pulumi-backend").as_uri()
    assert not (tmp_path / "dev" / "passphrase").exists()  # nothing is created by loading settings
    first = settings.env_vars()["PULUMI_CONFIG_PASSPHRASE"]
    path = tmp_path / "dev" / "passphrase"
    assert path.stat().st_mode & 0o777 == 0o600
    assert CloudSettings.load("dev", env).passphrase() == first and len(first) >= 40
    assert first not in repr(settings)


def test_the_environment_wins_and_nothing_is_written(tmp_path: Path) -> None:
    env = {"ECOMCTL_STATE_DIR": str(tmp_path), "PULUMI_CONFIG_PASSPHRASE": "from-env",
           "PULUMI_BACKEND_URL": "s3://team-state/ecomctl", "ECOMCTL_SECRETS_PROVIDER": "awskms://alias/ecomctl"}
    settings = CloudSettings.load("prod", env)
    assert settings.backend_url == "s3://team-state/ecomctl"
    assert settings.secrets_provider == "awskms://alias/ecomctl"
    assert "PULUMI_CONFIG_PASSPHRASE" not in settings.env_vars()  # KMS encrypts: no passphrase needed
    assert CloudSettings.load("prod", {**env, "ECOMCTL_SECRETS_PROVIDER": ""}).passphrase() == "from-env"
    assert not (tmp_path / "prod").exists()


@pytest.mark.parametrize("name", ["local", "", "-dev", "dev stack", "a/b"])
def test_bad_stack_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError):
        CloudSettings.load(name, {"ECOMCTL_STATE_DIR": str(tmp_path)})


def _result(stderr: str, stdout: str = "") -> CommandResult:
    return CommandResult(stdout=stdout, stderr=stderr, code=255)


def test_engine_errors_become_one_line_errors_with_a_way_out() -> None:
    with pytest.raises(LockedError) as locked, engine_errors("dev", "aws", "up"):
        raise auto_errors.ConcurrentUpdateError(_result("error: the stack is currently locked by 1 lock(s)."))
    assert locked.value.message == ("stack 'dev' (ecomctl-aws) is locked: "
                                    "another update is in progress or was interrupted")
    assert "ecomctl cancel --stack dev" in str(locked.value.hint)

    with pytest.raises(CloudError) as failed, engine_errors("dev", "k8s", "up"):
        raise auto_errors.CommandError(_result(
            "error: update failed", stdout="Diagnostics:\n  kubernetes:apps/v1:Deployment (orders):\n"
            "    error: 1 error occurred: timed out waiting for the condition\n"))
    assert failed.value.message == ("up of stack 'dev' (ecomctl-k8s) failed: "
                                    "1 error occurred: timed out waiting for the condition")
    assert failed.value.details == "update failed"

    with pytest.raises(ConfigError, match="does not exist yet"), engine_errors("qa", "gcp", "outputs"):
        raise auto_errors.StackNotFoundError(_result("error: no stack named 'qa' found"))

    with pytest.raises(PrerequisiteError, match=r"get\.pulumi\.com"), engine_errors("dev", "aws", "up"):
        raise FileNotFoundError(2, "No such file or directory", "pulumi")

    with pytest.raises(PrerequisiteError, match="cannot be used"), engine_errors("dev", "aws", "up"):
        raise auto_errors.InvalidVersionError("Minimum version requirement failed")


def test_other_missing_files_are_not_mistaken_for_the_cli() -> None:
    with pytest.raises(FileNotFoundError), engine_errors("dev", "aws", "up"):
        raise FileNotFoundError(2, "No such file or directory", os.path.join("/tmp", "Pulumi.dev.yaml"))
