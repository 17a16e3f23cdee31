"""The stages the Automation layer runs, in order (``up``), reversed for ``down``.

Each stage is its own Pulumi stack (project ``ecomctl-<stage>``). ``upstream`` holds the plain
(resolved) outputs of the earlier stages keyed ``"<stage>.<output>"``. The order makes the
cross-cloud link work: ``aws`` builds the VPC, its VPN gateway and MSK; ``gcp`` knows both sides
and builds the HA VPN (GCP and AWS halves), the MSK rule for the Dataproc subnet and the
Dataproc SCRAM user; ``k8s`` deploys onto EKS from the AWS outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from programs.config import ProgramConfig


@dataclass(frozen=True)
class Stage:
    name: str  # "aws", "gcp", "k8s" — run in this order by `up`, reverse by `down`
    program: Callable[[ProgramConfig, Mapping[str, Any]], None]
    description: str = ""
    # What the stage needs on the operator's machine and from it (``ecomctl.cloud.prereqs`` checks
    # each before the first stage changes anything): tools, credentials, reachability.
    needs: tuple[str, ...] = ()


def _aws(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> None:
    from programs.aws import aws_program  # providers import lazily, only when the stage runs

    aws_program(cfg, upstream)


def _gcp(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> None:
    from programs.gcp import gcp_program

    gcp_program(cfg, upstream)


def _k8s(cfg: ProgramConfig, upstream: Mapping[str, Any]) -> None:
    from programs.kubernetes import k8s_program

    k8s_program(cfg, upstream)


STAGES: tuple[Stage, ...] = (
    Stage("aws", _aws, "VPC, EKS, RDS, DynamoDB, MSK, S3 + Lambda, SNS/SQS, ECR + images, IAM",
          needs=("aws-credentials", "docker")),
    Stage("gcp", _gcp, "network + Cloud NAT, HA VPN to AWS, MSK rule + SCRAM user, Dataproc Flink, job on GCS",
          needs=("aws-credentials", "gcp-credentials")),
    Stage("k8s", _k8s, "namespaces, config/secrets, workloads, HPAs, policies, monitoring, Argo CD",
          needs=("aws-credentials", "aws-cli", "eks-api")),
)


def stage(name: str) -> Stage:
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(f"no stage named {name!r}")
