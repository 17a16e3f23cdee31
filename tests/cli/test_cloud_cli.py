"""``ecomctl`` on cloud stacks, run as a user runs it: a subprocess, exit codes, stdout and stderr.

The Pulumi CLI is the real one (built by ``bin/pulumi-cli``) with a ``file://`` backend; the
stages are the component-only stand-ins in ``tests/cloud/sample_stages.py``
(``ECOMCTL_CLOUD_STAGES``), except for the offline previews, which evaluate the real three programs.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cloud import sample_stages
from tests.cloud.conftest import (  # noqa: F401
    FileBackend,
    fx_cloud_env,
    fx_no_pulumi,
    fx_pulumi_backend,
    fx_pulumi_binary,
)

SAMPLE = "tests.cloud.sample_stages:STAGES"
REPO = Path(__file__).resolve().parents[2]


def ecomctl(*args: str, input_text: str | None = None, timeout: float = 180,
            **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "ecomctl", *args], capture_output=True, text=True,
                          timeout=timeout, input=input_text, env=environ, cwd=REPO)


@pytest.fixture(name="cloud_creds")
def fx_cloud_creds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials that pass the presence checks (nothing reaches a cloud: the stages are stand-ins)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.setenv("GOOGLE_OAUTH_ACCESS_TOKEN", "ya29.test")
    monkeypatch.setenv("ECOMCTL_CLOUD_STAGES", SAMPLE)


def test_up_without_the_pulumi_cli_is_one_line(no_pulumi: Path) -> None:
    done = ecomctl("up", "--stack", "dev", "--yes")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: the Pulumi CLI is not installed: build it with `bin/pulumi-cli`")
    assert "get.pulumi.com" in lines[0] and "`ecomctl preview --offline` works without it" in lines[0]
    assert done.stdout == ""


def test_up_without_cloud_credentials_says_what_to_set(pulumi_backend: FileBackend, tmp_path: Path) -> None:
    env = {k: "" for k in ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS")}
    done = ecomctl("up", "--stack", "dev", "--yes", HOME=str(tmp_path), **env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: no AWS credentials found: set AWS credentials: `aws configure` (or AWS_PROFILE, or "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); `ecomctl preview --offline` works without them"]
    assert not pulumi_backend.root.exists()  # no stack was created


@pytest.mark.slow
def test_preview_offline_json_lists_every_program_with_policies_and_cost(no_pulumi: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = ecomctl("preview", "--offline", "--json")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(done.stdout)
    # CPU seconds, not wall time: on a dedicated CI runner they are about equal, while on a shared
    # machine the wall time measures the neighbours (the command itself is single-threaded).
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < 20, f"offline preview used {cpu:.1f} CPU seconds"
    assert {r["stage"] for r in report["resources"]} == {"aws", "gcp", "k8s"}
    assert all(set(r) >= {"type", "name"} and r["type"].count(":") == 2 for r in report["resources"])
    assert any(r["type"] == "aws:rds/instance:Instance" for r in report["resources"])
    assert all(set(v) >= {"rule", "resource", "message"} for v in report["violations"])
    assert report["cost"]["hourly_usd"] > 0
    assert report["cost"]["daily_usd"] == pytest.approx(report["cost"]["hourly_usd"] * 24, abs=0.01)
    assert report["cost"]["prices_taken"] and "prices.toml" not in report["cost"]["prices_source"]
    # exit status follows the findings
    assert done.returncode == (1 if report["violations"] else 0), done.stderr


@pytest.mark.slow
def test_an_insecure_config_fails_the_offline_preview_naming_the_rule(pulumi_backend: FileBackend,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("ECOMCTL_CLOUD_STAGES", SAMPLE)  # `config set` touches the sample stages' stacks
    assert ecomctl("config", "set", "admin_cidrs", "0.0.0.0/0", "--stack", "ci").returncode == 0
    monkeypatch.delenv("ECOMCTL_CLOUD_STAGES")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin{os.pathsep}/bin")  # no pulumi on PATH
    monkeypatch.setenv("ECOMCTL_CACHE_DIR", str(tmp_path / "empty-cache"))  # and none built

    done = ecomctl("preview", "--offline", "--json", "--stack", "ci")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["config"] == {"admin_cidrs": ["0.0.0.0/0"]}
    fired = {v["rule"] for v in report["violations"]}
    assert "operator-uis-restricted" in fired
    first = done.stderr.strip().splitlines()[0]
    assert first.startswith("error: ") and "policy violation(s): " in first and "operator-uis-restricted" in first


@pytest.mark.slow
def test_up_prints_the_addresses_and_outputs_keep_secrets_masked(pulumi_backend: FileBackend,
                                                                 cloud_creds: None) -> None:
    up = ecomctl("up", "--stack", "dev", "--yes")
    assert up.returncode == 0, up.stderr
    assert "storefront  https://shop.example/vpc-0abc" in up.stdout
    assert "Grafana     https://grafana.shop.example" in up.stdout
    assert "Argo CD     https://argocd.shop.example" in up.stdout
    assert "ecomctl credentials --stack dev" in up.stdout
    assert "argocd-initial-admin-secret" in up.stdout and "kube-prometheus-stack-grafana" in up.stdout
    # engine events, one line per resource on a non-terminal
    assert "aws  created ecomctl:standin:Cluster cluster-name" in up.stderr
    assert "k8s  created ecomctl:standin:Release release" in up.stderr
    assert sample_stages.ADMIN_PASSWORD not in up.stdout + up.stderr

    outputs = ecomctl("outputs", "--stack", "dev", "--json")
    assert outputs.returncode == 0
    shown = json.loads(outputs.stdout)
    assert shown["k8s.storefront_url"] == "https://shop.example/vpc-0abc"
    assert shown["aws.admin_password"] == "[secret]" and shown["gcp.received"] == "[secret]"
    assert sample_stages.ADMIN_PASSWORD not in outputs.stdout

    creds = ecomctl("credentials", "--stack", "dev", "--json")
    assert json.loads(creds.stdout) == {"admin_email": "admin@shop.example",
                                        "admin_password": sample_stages.ADMIN_PASSWORD}

    status = json.loads(ecomctl("status", "--stack", "dev", "--json").stdout)
    assert status["stack"] == "dev"
    assert [(c["name"], c["state"]) for c in status["components"]] == [
        ("aws", "deployed"), ("gcp", "deployed"), ("k8s", "deployed")]
    assert status["endpoints"]["gateway"] == "https://shop.example/vpc-0abc"


@pytest.mark.slow
def test_down_lists_what_it_deletes_and_asks_first(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    assert ecomctl("up", "--stack", "dev", "--yes").returncode == 0

    refused = ecomctl("down", "--stack", "dev", input_text="n\n")
    assert refused.returncode != 0
    assert "3 resources to delete" in refused.stderr
    assert "ecomctl:standin:Cluster" in refused.stderr
    assert len(pulumi_backend.checkpoint("ecomctl-aws")["resources"]) == 2  # nothing was deleted

    done = ecomctl("down", "--stack", "dev", "--yes", "--purge")
    assert done.returncode == 0, done.stderr
    deleted = [line.split()[1] for line in done.stderr.splitlines() if " deleted ecomctl:standin:" in line]
    assert deleted == ["k8s", "gcp", "aws"]
    assert not list((pulumi_backend.root / "stacks").glob("*/dev.json"))
    assert not (pulumi_backend.state_root / "dev").exists()
    status = ecomctl("status", "--stack", "dev", "--json")
    assert status.returncode == 3
    assert {c["state"] for c in json.loads(status.stdout)["components"]} == {"absent"}


def test_config_keys_and_render_need_no_cloud(no_pulumi: Path, tmp_path: Path) -> None:
    keys = json.loads(ecomctl("config", "keys", "--json").stdout)["keys"]
    assert {"node_max", "admin_cidrs", "image_tag"} <= {k["key"] for k in keys}
    out = tmp_path / "manifests"
    done = ecomctl("render", "--out", str(out), "--image-tag", "3f9c2a1", "--registry", "registry.example/shop")
    assert done.returncode == 0, done.stderr
    files = sorted(out.glob("*.json"))
    assert files and f"wrote {len(files)} manifests" in done.stdout
    images = {c["image"] for f in files for c in (json.loads(f.read_text()).get("spec", {}).get("template", {})
                                                   .get("spec", {}).get("containers", []))}
    # named as the AWS program names the ECR repositories, so Argo CD and Pulumi agree
    assert "registry.example/shop/ecomctl-dev-orders:3f9c2a1" in images
    refused = ecomctl("render", "--out", str(out), "--image-tag", "latest")
    assert refused.returncode == 1 and "refusing image tag 'latest'" in refused.stderr


def test_config_secret_is_masked_everywhere(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    value = "ya29.super-secret-token"
    done = ecomctl("config", "set", "gcp:accessToken", value, "--secret", "--stack", "dev")
    assert done.returncode == 0 and value not in done.stdout + done.stderr
    listed = json.loads(ecomctl("config", "list", "--stack", "dev", "--json").stdout)
    assert listed["config"]["gcp:accessToken"] == "[secret]"
    got = json.loads(ecomctl("config", "get", "gcp:accessToken", "--stack", "dev", "--json").stdout)
    assert got == {"key": "gcp:accessToken", "value": "[secret]", "secret": True}
    unset = ecomctl("config", "get", "node_max", "--stack", "dev")
    assert unset.returncode == 1 and "'node_max' is not set on stack 'dev'" in unset.stderr
    bad = ecomctl("config", "set", "nodes_max", "3", "--stack", "dev")
    assert bad.returncode == 1 and "unknown configuration key 'nodes_max'" in bad.stderr


def test_preview_with_the_engine_shows_changes_per_stage(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    done = ecomctl("preview", "--stack", "dev")
    assert done.returncode == 0, done.stderr
    assert "aws    create 2" in done.stdout
    assert "gcp    not previewed: the stages before it are not deployed yet" in done.stdout
    assert not pulumi_backend.checkpoint("ecomctl-aws").get("resources")  # a preview saves no resources


def test_a_locked_stack_gives_the_way_out(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    assert ecomctl("up", "--stack", "dev", "--yes").returncode == 0
    lock = pulumi_backend.hold_lock("ecomctl-aws")
    locked = ecomctl("up", "--stack", "dev", "--yes")
    assert locked.returncode == 1
    lines = locked.stderr.strip().splitlines()
    assert lines[-2].startswith("error: stack 'dev' (ecomctl-aws) is locked")
    assert lines[-1].startswith("hint: ") and "ecomctl cancel --stack dev" in lines[-1]
    released = ecomctl("cancel", "--stack", "dev")
    assert released.returncode == 0 and "aws" in released.stdout and not lock.exists()


@pytest.mark.slow
def test_ctrl_c_cancels_cleanly(pulumi_backend: FileBackend, cloud_creds: None) -> None:
    # The engine stops only once the running program returns: the aws stand-in takes 10 s.
    env = {**os.environ, "ECOMCTL_SAMPLE_DELAY": "10", "COLUMNS": "200"}
    # Ctrl-C as a user at a terminal sends it: with the default disposition, even when this test run
    # inherited SIGINT ignored (a shell's background `&` job without job control does that).
    proc = subprocess.Popen([sys.executable, "-m", "ecomctl", "up", "--stack", "dev", "--yes"], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not pulumi_backend.locks("ecomctl-aws") and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert pulumi_backend.locks("ecomctl-aws"), "the aws update never started"
    proc.send_signal(signal.SIGINT)  # to ecomctl only: it must pass it on to pulumi
    try:
        _stdout, stderr = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "cancelling:" in stderr
    assert "error: up of stack 'dev' cancelled" in stderr
    assert pulumi_backend.locks("ecomctl-aws") == []
    assert not (pulumi_backend.root / "stacks" / "ecomctl-gcp").exists()  # the next stage never started
