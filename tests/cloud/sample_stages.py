"""Three stand-in stages with the shape of ``programs.platform.STAGES``, for engine and CLI tests.

The real stages need the aws, gcp and kubernetes provider plugins, which cannot be installed
here; these register component resources only (the engine creates, refreshes and deletes them
with no plugin) and export outputs named as the real stages name theirs. The later stages export
what they received from the earlier ones, so a test can see outputs being passed forward.
Selected in a subprocess with ``ECOMCTL_CLOUD_STAGES=tests.cloud.sample_stages:STAGES``.

``ECOMCTL_SAMPLE_DELAY=<seconds>`` makes the aws stage's program wait (a long update to
interrupt); ``ECOMCTL_SAMPLE_FAIL=<stage>`` makes that stage's stand-in refuse to be created.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ADMIN_PASSWORD = "Adm1n-s3cret-value"
STANDIN = "ecomctl:standin:"
"""Type prefix of every stand-in resource: ``ecomctl:standin:Cluster`` and so on."""


@dataclass(frozen=True)
class SampleStage:
    name: str
    program: Callable[[Any, Mapping[str, Any]], None]


def _standin(stage: str, kind: str, name: str, **props: Any) -> Any:
    """A component resource of type ``ecomctl:standin:<kind>`` with ``props`` as its inputs."""
    import pulumi

    if os.environ.get("ECOMCTL_SAMPLE_FAIL") == stage:
        raise RuntimeError(f"creating {kind} {name!r}: AccessDenied: the stand-in of stage {stage} refuses")
    component = pulumi.ComponentResource(STANDIN + kind, name, props)
    component.register_outputs({})
    return component


def aws(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi

    _standin("aws", "Cluster", "cluster-name", node_count=2)
    delay = float(os.environ.get("ECOMCTL_SAMPLE_DELAY") or 0)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:  # in short steps: the engine may stop waiting for us
        time.sleep(0.2)
    pulumi.export("received", dict(upstream))
    pulumi.export("vpc_id", "vpc-0abc")
    pulumi.export("node_max", getattr(cfg, "node_max", None))
    pulumi.export("admin_email", "admin@shop.example")
    pulumi.export("admin_password", pulumi.Output.secret(ADMIN_PASSWORD))


def gcp(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi

    _standin("gcp", "Network", "network-suffix", byte_length=4)
    pulumi.export("received", dict(upstream))
    pulumi.export("peer_vpc", upstream["aws.vpc_id"])


def k8s(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi

    _standin("k8s", "Release", "release", length=6)
    pulumi.export("received", dict(upstream))
    pulumi.export("storefront_url", f"https://shop.example/{upstream['gcp.peer_vpc']}")
    pulumi.export("grafana_url", "https://grafana.shop.example")
    pulumi.export("argocd_url", "https://argocd.shop.example")


STAGES = (SampleStage("aws", aws), SampleStage("gcp", gcp), SampleStage("k8s", k8s))


def config_factory() -> Any:
    """The real ``ProgramConfig`` read from the running stack's ``ecomctl:*`` config."""
    from programs.config import ProgramConfig

    return ProgramConfig.from_pulumi_config()
