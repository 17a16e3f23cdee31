"""ECR repositories (immutable tags, scan on push, KMS) and the service images built and pushed.

The tag is ``image_tag`` when set, else a hash of everything the image is built from (the
Dockerfile, the pins, ``services/``): a changed tree gets a new tag, so an immutable repository
accepts every build, and an unchanged tree is not rebuilt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from blueprint.topology import Topology
from programs.config import ProgramConfig

from ._files import REPO_ROOT

DOCKERFILE = REPO_ROOT / "programs" / "docker" / "service.Dockerfile"
REQUIREMENTS = DOCKERFILE.with_name("service-requirements.txt")
IMAGE_INPUTS = ("constraints/main.txt", "programs/docker/service-requirements.txt", "services")


def image_inputs(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Context path -> file: what the service image is built from (its .dockerignore admits these)."""
    files = {DOCKERFILE.relative_to(REPO_ROOT).as_posix(): root / DOCKERFILE.relative_to(REPO_ROOT)}
    for top in IMAGE_INPUTS:
        path = root / top
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files.update({p.relative_to(root).as_posix(): p for p in found
                      if "__pycache__" not in p.parts and p.suffix != ".pyc"})
    return files


def content_tag(root: Path = REPO_ROOT) -> str:
    """``src-`` and 16 hex digits of sha256 over every input's path and bytes."""
    digest = hashlib.sha256()
    for name, path in sorted(image_inputs(root).items()):
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return f"src-{digest.hexdigest()[:16]}"


def image_tag(cfg: ProgramConfig) -> str:
    """The tag every service image gets in this stack."""
    if cfg.image_tag == "latest":
        raise ValueError("image_tag: set a real tag (a git sha), never 'latest'")
    return cfg.image_tag or content_tag()


@dataclass(frozen=True)
class Images:
    repositories: dict[str, aws.ecr.Repository]
    images: dict[str, docker_build.Image]
    refs: dict[str, pulumi.Output[str]]  # service -> <repo>@<digest>
    tag: str


def build_images(topology: Topology, cfg: ProgramConfig, kms_key: aws.kms.Key,
                 opts: pulumi.ResourceOptions) -> Images:
    tag = image_tag(cfg)
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
        token = aws.ecr.get_authorization_token_output(
            registry_id=repo.registry_id, opts=pulumi.InvokeOutputOptions(provider=opts.provider))
        image = docker_build.Image(
            f"{cfg.prefix}-{service.name}",
            context={"location": str(REPO_ROOT)},
            dockerfile={"location": str(DOCKERFILE)},
            build_args={"SERVICE_PACKAGE": service.package},
            platforms=[docker_build.Platform.LINUX_AMD64],
            tags=[pulumi.Output.concat(repo.repository_url, ":", tag)],
            push=True,
            registries=[{"address": repo.repository_url, "username": token.user_name,
                         "password": token.password}],
            opts=opts)
        repos[service.name] = repo
        images[service.name] = image
        refs[service.name] = pulumi.Output.concat(repo.repository_url, "@", image.digest)
    return Images(repos, images, refs, tag)
