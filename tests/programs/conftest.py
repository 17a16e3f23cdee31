"""Every stage run once per configuration under mocks, in ``up`` order, each fed the previous
stages' exports as ``upstream`` (exactly what the offline preview does)."""

from __future__ import annotations

from typing import Any

import pytest

from ecomctl.cloud.stages import with_secrets
from programs.config import ProgramConfig
from programs.platform import STAGES
from tests.programs.harness import Run, run

ORIGIN = "https://shop.example.com"


def run_stages(cfg: ProgramConfig) -> dict[str, Run]:
    upstream: dict[str, Any] = {}
    secret: set[str] = set()
    runs: dict[str, Run] = {}
    for stage in STAGES:
        # like the Automation layer: secret outputs reach the next stage as Output.secret again
        result = run(lambda stage=stage: stage.program(cfg, with_secrets(upstream, frozenset(secret))),
                     project=f"ecomctl-{stage.name}", stack=cfg.stack)
        runs[stage.name] = result
        upstream.update({f"{stage.name}.{k}": v for k, v in result.exports.items()})
        secret.update(f"{stage.name}.{k}" for k in result.secret_exports)
    return runs


@pytest.fixture(name="dev_cfg", scope="session")
def fx_dev_cfg() -> ProgramConfig:
    return ProgramConfig.for_stack("dev", storefront_domain="shop.example.com", image_tag="3f2a9c1")


@pytest.fixture(name="prod_cfg", scope="session")
def fx_prod_cfg() -> ProgramConfig:
    return ProgramConfig.for_stack("prod", storefront_domain="shop.example.com", image_tag="3f2a9c1",
                                   admin_cidrs=("198.51.100.0/24",), gitops_owner="argocd",
                                   gitops_repo_url="https://git.example/shop-deploy.git", gcp_project="shop-4711",
                                   public_certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/0b6e")


@pytest.fixture(name="dev", scope="session")
def fx_dev(dev_cfg: ProgramConfig) -> dict[str, Run]:
    return run_stages(dev_cfg)


@pytest.fixture(name="prod", scope="session")
def fx_prod(prod_cfg: ProgramConfig) -> dict[str, Run]:
    return run_stages(prod_cfg)
