"""EKS: the control plane (secrets encrypted with KMS, API authentication), a managed node group
in the private subnets, the VPC CNI with network-policy enforcement, and the IRSA OIDC provider."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from programs.config import ProgramConfig

from ._network import Network

_EKS_POLICY = "arn:aws:iam::aws:policy/"


def assume_role_policy(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


@dataclass(frozen=True)
class Cluster:
    cluster: aws.eks.Cluster
    node_group: aws.eks.NodeGroup
    node_security_group_id: pulumi.Output[str]
    oidc_provider: aws.iam.OpenIdConnectProvider
    kubeconfig: pulumi.Output[str]


def _role(name: str, service: str, policies: list[str], opts: pulumi.ResourceOptions) -> aws.iam.Role:
    role = aws.iam.Role(name, assume_role_policy=assume_role_policy(service), opts=opts)
    for policy in policies:
        aws.iam.RolePolicyAttachment(f"{name}-{policy.lower()}", role=role.name,
                                     policy_arn=_EKS_POLICY + policy, opts=opts)
    return role


def kubeconfig(name: pulumi.Input[str], endpoint: pulumi.Input[str], ca_data: pulumi.Input[str],
               region: str) -> pulumi.Output[str]:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no long-lived credentials)."""
    def render(args: list[str]) -> str:
        cluster_name, server, ca = args
        return json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": cluster_name,
            "clusters": [{"name": cluster_name, "cluster": {"server": server, "certificate-authority-data": ca}}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "users": [{"name": cluster_name, "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws",
                "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                "interactiveMode": "Never"}}}],
        })
    return pulumi.Output.secret(pulumi.Output.all(name, endpoint, ca_data).apply(render))


def build_cluster(cfg: ProgramConfig, net: Network, kms_key: aws.kms.Key,
                  opts: pulumi.ResourceOptions) -> Cluster:
    name = cfg.prefix
    cluster_role = _role(f"{name}-eks-cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], opts)
    node_role = _role(f"{name}-eks-nodes", "ec2.amazonaws.com", [
        "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"], opts)
    # the control plane's log group, managed: its retention is the stack's, and it goes with the stack
    logs = aws.cloudwatch.LogGroup(f"{name}-eks", name=f"/aws/eks/{name}/cluster",
                                   retention_in_days=cfg.log_retention_days, opts=opts)
    cluster = aws.eks.Cluster(
        f"{name}-eks",
        name=name,
        version=cfg.kubernetes_version,
        role_arn=cluster_role.arn,
        vpc_config={
            "subnet_ids": [s.id for s in net.private_subnets],
            "endpoint_private_access": True,
            # public only for the operators' CIDRs; without admin_cidrs the API is private to the VPC
            "endpoint_public_access": bool(cfg.admin_cidrs),
            "public_access_cidrs": list(cfg.admin_cidrs) or None,
        },
        access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
        encryption_config={"provider": {"key_arn": kms_key.arn}, "resources": ["secrets"]},
        enabled_cluster_log_types=["api", "audit", "authenticator"],
        upgrade_policy={"support_type": "STANDARD"},
        deletion_protection=cfg.production,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[logs])),
    )
    aws.eks.Addon(f"{name}-vpc-cni", cluster_name=cluster.name, addon_name="vpc-cni",
                  configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
                  resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="OVERWRITE", opts=opts)
    node_group = aws.eks.NodeGroup(
        f"{name}-nodes",
        cluster_name=cluster.name,
        node_role_arn=node_role.arn,
        subnet_ids=[s.id for s in net.private_subnets],
        instance_types=list(cfg.node_instance_types),
        ami_type="AL2023_x86_64_STANDARD",
        scaling_config={"min_size": cfg.node_min, "desired_size": cfg.node_desired, "max_size": cfg.node_max},
        update_config={"max_unavailable": 1},
        opts=opts,
    )
    issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else "")
    oidc = aws.iam.OpenIdConnectProvider(f"{name}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                         opts=opts)
    node_sg = cluster.vpc_config.apply(lambda vc: vc.cluster_security_group_id or "")
    ca = cluster.certificate_authority.apply(lambda c: c.data or "")
    return Cluster(cluster, node_group, node_sg, oidc, kubeconfig(cluster.name, cluster.endpoint, ca, cfg.aws_region))


def irsa_role(name: str, oidc: aws.iam.OpenIdConnectProvider, namespace: str, service_account: str,
              opts: pulumi.ResourceOptions) -> aws.iam.Role:
    """A role only ``system:serviceaccount:<namespace>:<service_account>`` can assume."""
    def trust(args: list[str]) -> str:
        arn, url = args
        host = url.removeprefix("https://")
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                f"{host}:aud": "sts.amazonaws.com"}}}]})
    policy = pulumi.Output.all(oidc.arn, oidc.url).apply(trust)
    return aws.iam.Role(name, assume_role_policy=policy, opts=opts)
