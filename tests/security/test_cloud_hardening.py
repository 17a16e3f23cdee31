"""A cloud stack's services refuse a weak JWT key at start; the local stack keeps its own rule."""

from __future__ import annotations

import importlib
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from blueprint.topology import TOPOLOGY, Service
from blueprint.wiring import service_env
from ecomctl.local.context import LocalContext
from ecomctl.secrets import StackSecrets
from ecomctl.settings import Settings as EcomctlSettings
from tests.programs.harness import Run
from tests.programs.test_kubernetes import k8s_objects

REPO = Path(__file__).resolve().parents[2]
WEAK = {
    "empty": "",
    "short": "s3cr3t-k3y",
    "default": "change-me-0123456789-abcdefghijklmnop",
    "sample": "my-jwt-secret-for-the-example-shop-2026",
    "repeated": "abcabcabcabcabcabcabcabcabcabcabcabc",
}


def cloud_env(run: Run, service: Service) -> dict[str, str]:
    """What a service's pod reads: its ConfigMap and Secret as the Kubernetes program renders them."""
    objects = {(o["kind"], o["metadata"]["name"]): o for _, o in k8s_objects(run)}
    env = dict(objects[("ConfigMap", f"{service.name}-config")]["data"])
    env.update(objects[("Secret", f"{service.name}-secrets")]["stringData"])
    return {k: str(v) for k, v in env.items()}


def load_settings(service: Service, env: dict[str, str]) -> Any:
    return importlib.import_module(f"{service.package}.settings").Settings.from_env(env)


def cloud_key(length: int) -> str:
    """A key as the AWS program's ``RandomPassword`` makes it (letters, digits, ``-_.~``)."""
    alphabet = string.ascii_letters + string.digits + "-_.~"
    return "".join(secrets.choice(alphabet) for _ in range(length))


@pytest.mark.parametrize("weak", WEAK.values(), ids=list(WEAK))
@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_a_cloud_service_refuses_a_weak_jwt_secret(dev: dict[str, Run], service: Service, weak: str) -> None:
    env = cloud_env(dev["k8s"], service)
    assert env["HOST"] == "0.0.0.0"
    with pytest.raises(ValueError, match="JWT_SECRET is too weak"):
        load_settings(service, {**env, "JWT_SECRET": weak})
    strong = cloud_key(32)
    assert load_settings(service, {**env, "JWT_SECRET": strong}).service.jwt_secret == strong


@pytest.mark.parametrize("service", TOPOLOGY.services, ids=lambda s: s.name)
def test_the_local_stack_keeps_working_with_any_key(service: Service) -> None:
    ctx = LocalContext(EcomctlSettings.load({"HOME": "/h", "ECOMCTL_PORT_OFFSET": "3"}), StackSecrets.generate())
    env = {k: str(v) for k, v in service_env(service, ctx.endpoints).items()}
    assert env["HOST"] == "127.0.0.1"
    assert load_settings(service, env).service.jwt_secret == env["JWT_SECRET"]  # the generated one
    assert load_settings(service, {**env, "JWT_SECRET": WEAK["short"]}).service.jwt_secret == WEAK["short"]


def test_the_keys_both_stacks_generate_pass_the_rule(dev: dict[str, Run]) -> None:
    from services.kit.settings import weak_jwt_secret

    generator = dev["aws"].one("random:index/randomPassword:RandomPassword", "jwt-secret").inputs
    assert generator["special"] is True and set(generator["overrideSpecial"]) == set("-_.~")
    refused = [key for key in (cloud_key(generator["length"]) for _ in range(2000)) if weak_jwt_secret(key)]
    assert refused == []
    assert [s for s in (StackSecrets.generate().jwt_secret for _ in range(500)) if weak_jwt_secret(s)] == []


def test_a_service_process_with_a_weak_key_exits_before_listening() -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine: nothing could bind it anyway, and the
    message proves the process stopped at the key, before trying."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "HOST": "192.0.2.1", "PORT": "8002",
           "JWT_SECRET": WEAK["default"]}
    run = subprocess.run([sys.executable, "-m", "services.products"], env=env, capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "services.products.app:create_app: JWT_SECRET is too weak for a service listening on 192.0.2.1 "
        "(it contains the word 'change' (a sample or default value)): set a random key of at least 32 characters"]
