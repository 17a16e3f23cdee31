"""IAM for the two cluster controllers the Kubernetes stage installs in ``kube-system``: the AWS
Load Balancer Controller (the storefront's ALB from an Ingress) and the cluster autoscaler (adds
nodes to the managed node group when pods do not fit). Each is an IRSA role scoped to what the
controller does for this cluster; the documents are plain functions so tests can evaluate them."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.config import ProgramConfig

from ._eks import Cluster, irsa_role

CONTROLLER_NAMESPACE = "kube-system"
LB_CONTROLLER = "aws-load-balancer-controller"
CLUSTER_AUTOSCALER = "cluster-autoscaler"

_LB_READ = ["ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
            "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
            "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeCoipPools",
            "ec2:GetCoipPoolUsage", "ec2:DescribeRouteTables", "ec2:GetSecurityGroupsForVpc",
            "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
            "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeSSLPolicies",
            "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
            "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
            "elasticloadbalancing:DescribeCapacityReservation",
            "acm:ListCertificates", "acm:DescribeCertificate"]
_LB_SECURITY_GROUPS = ["ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags",
                       "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                       "ec2:DeleteSecurityGroup"]
_LB_WRITE = ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup",
             "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
             "elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule",
             "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
             "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
             "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
             "elasticloadbalancing:DeleteLoadBalancer", "elasticloadbalancing:ModifyTargetGroup",
             "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
             "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
             "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
             "elasticloadbalancing:ModifyRule", "elasticloadbalancing:AddListenerCertificates",
             "elasticloadbalancing:RemoveListenerCertificates"]
_ASG_READ = ["autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
             "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities",
             "autoscaling:DescribeTags", "ec2:DescribeImages", "ec2:DescribeInstanceTypes",
             "ec2:DescribeLaunchTemplateVersions", "ec2:GetInstanceTypesFromInstanceRequirements"]
_ASG_WRITE = ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]


def lb_controller_policy(region: str, account: str, vpc_arn: str) -> dict[str, Any]:
    """What the controller calls to run the storefront's ALB (shield, WAF and the rest are off)."""
    elb = f"arn:aws:elasticloadbalancing:{region}:{account}"
    security_groups = f"arn:aws:ec2:{region}:{account}:security-group/*"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": _LB_READ, "Resource": ["*"]},
        {"Sid": "SecurityGroups", "Effect": "Allow", "Action": _LB_SECURITY_GROUPS,
         "Resource": [security_groups, vpc_arn]},
        {"Sid": "LoadBalancers", "Effect": "Allow", "Action": _LB_WRITE, "Resource": [
            f"{elb}:loadbalancer/app/*", f"{elb}:loadbalancer/net/*", f"{elb}:targetgroup/*",
            f"{elb}:listener/app/*", f"{elb}:listener/net/*", f"{elb}:listener-rule/app/*",
            f"{elb}:listener-rule/net/*"]},
        {"Sid": "ServiceLinkedRole", "Effect": "Allow", "Action": ["iam:CreateServiceLinkedRole"],
         "Resource": [f"arn:aws:iam::{account}:role/aws-service-role/elasticloadbalancing.amazonaws.com/*"],
         "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}},
    ]}


def cluster_autoscaler_policy(region: str, account: str, cluster_name: str) -> dict[str, Any]:
    """Read the node groups; resize only this cluster's (their ASGs carry the cluster's tag)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": _ASG_READ, "Resource": ["*"]},
        {"Sid": "NodeGroups", "Effect": "Allow", "Action": ["eks:DescribeNodegroup"],
         "Resource": [f"arn:aws:eks:{region}:{account}:nodegroup/{cluster_name}/*"]},
        {"Sid": "Resize", "Effect": "Allow", "Action": _ASG_WRITE,
         "Resource": [f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/eks-*"],
         "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned"}}},
    ]}


def build_controller_roles(cfg: ProgramConfig, cluster: Cluster, vpc_arn: pulumi.Input[str],
                           account_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> dict[str, aws.iam.Role]:
    """Controller name -> its IRSA role (the cluster autoscaler's only when ``node_autoscaler`` asks)."""
    roles: dict[str, aws.iam.Role] = {}
    lb = irsa_role(f"{cfg.prefix}-{LB_CONTROLLER}", cluster.oidc_provider, CONTROLLER_NAMESPACE, LB_CONTROLLER, opts)
    aws.iam.RolePolicy(f"{cfg.prefix}-{LB_CONTROLLER}", role=lb.id, policy=pulumi.Output.all(
        account_id, vpc_arn).apply(lambda a: json.dumps(lb_controller_policy(cfg.aws_region, a[0], a[1]))), opts=opts)
    roles[LB_CONTROLLER] = lb
    if cfg.node_autoscaler == CLUSTER_AUTOSCALER:
        ca = irsa_role(f"{cfg.prefix}-{CLUSTER_AUTOSCALER}", cluster.oidc_provider, CONTROLLER_NAMESPACE,
                       CLUSTER_AUTOSCALER, opts)
        aws.iam.RolePolicy(f"{cfg.prefix}-{CLUSTER_AUTOSCALER}", role=ca.id, policy=pulumi.Output.all(
            account_id, cluster.cluster.name).apply(
                lambda a: json.dumps(cluster_autoscaler_policy(cfg.aws_region, a[0], a[1]))), opts=opts)
        roles[CLUSTER_AUTOSCALER] = ca
    return roles
