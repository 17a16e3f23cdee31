"""Three small stages with the shape of ``programs.platform.STAGES``, for engine and CLI tests.

Each registers a real (provider-less) resource and exports outputs; the later stages export
what they received from the earlier ones, so a test can see outputs being passed forward.
Selected in a subprocess with ``ECOMCTL_CLOUD_STAGES=tests.cloud.sample_stages:STAGES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ADMIN_PASSWORD = "Adm1n-s3cret-value"


@dataclass(frozen=True)
class SampleStage:
    name: str
    program: Callable[[Any, Mapping[str, Any]], None]


def aws(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi
    import pulumi_random as random

    pet = random.RandomPet("cluster-name", length=2)
    pulumi.export("received", dict(upstream))
    pulumi.export("vpc_id", "vpc-0abc")
    pulumi.export("pet_length", pet.length)
    pulumi.export("node_max", getattr(cfg, "node_max", None))
    pulumi.export("admin_email", "admin@shop.example")
    pulumi.export("admin_password", pulumi.Output.secret(ADMIN_PASSWORD))


def gcp(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi
    import pulumi_random as random

    random.RandomId("network-suffix", byte_length=4)
    pulumi.export("received", dict(upstream))
    pulumi.export("peer_vpc", upstream["aws.vpc_id"])


def k8s(cfg: Any, upstream: Mapping[str, Any]) -> None:
    import pulumi
    import pulumi_random as random

    random.RandomString("release", length=6)
    pulumi.export("received", dict(upstream))
    pulumi.export("storefront_url", f"https://shop.example/{upstream['gcp.peer_vpc']}")
    pulumi.export("grafana_url", "https://grafana.shop.example")
    pulumi.export("argocd_url", "https://argocd.shop.example")


STAGES = (SampleStage("aws", aws), SampleStage("gcp", gcp), SampleStage("k8s", k8s))


def config_factory() -> Any:
    """The real ``ProgramConfig`` read from the running stack's ``ecomctl:*`` config."""
    from programs.config import ProgramConfig

    return ProgramConfig.from_pulumi_config()
