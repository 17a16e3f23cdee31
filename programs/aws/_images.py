"""ECR repositories (immutable tags, scan on push, KMS) and the service images built and pushed."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from blueprint.topology import Topology
from programs.config import ProgramConfig

from ._files import REPO_ROOT

DOCKERFILE = REPO_ROOT / "programs" / "docker" / "service.Dockerfile"


@dataclass(frozen=True)
class Images:
    repositories: dict[str, aws.ecr.Repository]
    images: dict[str, docker_build.Image]
    refs: dict[str, pulumi.Output[str]]  # service -> <repo>@<digest>


def build_images(topology: Topology, cfg: ProgramConfig, kms_key: aws.kms.Key,
                 opts: pulumi.ResourceOptions) -> Images:
    if not cfg.image_tag or cfg.image_tag == "latest":
        raise ValueError("image_tag: set a real tag (a git sha), never 'latest'")
    repos: dict[str, aws.ecr.Repository] = {}
    images: dict[str, docker_build.Image] = {}
    refs: dict[str, pulumi.Output[str]] = {}
    for service in topology.services:
        repo = aws.ecr.Repository(
            f"{cfg.prefix}-{service.name}", name=cfg.physical_name(service.name),
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": kms_key.arn}],
            force_delete=not cfg.production,
            opts=opts)
        aws.ecr.LifecyclePolicy(f"{cfg.prefix}-{service.name}", repository=repo.name, policy=(
            '{"rules":[{"rulePriority":1,"description":"keep the last 30 images",'
            '"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":30},'
            '"action":{"type":"expire"}}]}'), opts=opts)
        token = aws.ecr.get_authorization_token_output(registry_id=repo.registry_id)
        image = docker_build.Image(
            f"{cfg.prefix}-{service.name}",
            context={"location": str(REPO_ROOT)},
            dockerfile={"location": str(DOCKERFILE)},
            build_args={"SERVICE_PACKAGE": service.package},
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[pulumi.Output.concat(repo.repository_url, ":", cfg.image_tag)],
            push=True,
            registries=[{"address": repo.repository_url, "username": token.user_name,
                         "password": token.password}],
            opts=opts)
        repos[service.name] = repo
        images[service.name] = image
        refs[service.name] = pulumi.Output.concat(repo.repository_url, "@", image.digest)
    return Images(repos, images, refs)
