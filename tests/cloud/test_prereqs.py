"""Prerequisite checks: what to install or set, one line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecomctl.cloud.prereqs import aws_check, cloud_checks, gcp_check, require_cloud_credentials
from ecomctl.errors import PrerequisiteError
from tests.cloud.conftest import SHARED_CACHE, FileBackend


def test_nothing_configured(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    assert aws_check(env)[1] is False and "aws configure" in aws_check(env)[3]
    assert gcp_check(env)[1] is False and "application-default login" in gcp_check(env)[3]
    with pytest.raises(PrerequisiteError) as caught:
        require_cloud_credentials(env)
    assert caught.value.message.startswith("no AWS credentials found: set AWS credentials")
    assert "preview --offline" in caught.value.message


def test_credentials_found_in_the_usual_places(tmp_path: Path) -> None:
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    adc = tmp_path / ".config" / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir(parents=True)
    adc.write_text("{}")
    env = {"HOME": str(tmp_path)}
    assert aws_check(env)[1] and gcp_check(env)[1]
    require_cloud_credentials(env)
    assert aws_check({"HOME": "/nonexistent", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})[1]
    key = tmp_path / "sa.json"
    key.write_text("{}")
    assert gcp_check({"HOME": "/nonexistent", "GOOGLE_APPLICATION_CREDENTIALS": str(key)})[1]
    assert not gcp_check({"HOME": "/nonexistent", "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "gone")})[1]


def test_doctor_rows_without_the_cli(no_pulumi: Path) -> None:
    name, ok, _detail, fix = cloud_checks()[0]
    assert (name, ok) == ("Pulumi CLI", False)
    assert "bin/pulumi-cli" in fix and "get.pulumi.com" in fix


def test_doctor_sees_the_built_cli_and_its_version(pulumi_backend: FileBackend) -> None:
    _name, ok, detail, fix = cloud_checks()[0]
    assert (ok, fix) == (True, "")
    assert detail == f"v3.276.0 at {SHARED_CACHE / 'pulumi' / 'v3.276.0' / 'bin' / 'pulumi'}"
