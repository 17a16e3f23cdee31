"""The VPC: a public and a private subnet in each AZ, NAT for the private side, and the virtual
private gateway the HA VPN from GCP attaches to (its routes are propagated to the private side)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from programs.config import ProgramConfig


@dataclass(frozen=True)
class Network:
    vpc: aws.ec2.Vpc
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    private_route_tables: list[aws.ec2.RouteTable]
    nat_gateways: list[aws.ec2.NatGateway]
    vpn_gateway: aws.ec2.VpnGateway


def subnet_cidrs(vpc_cidr: str, zones: int) -> tuple[list[str], list[str]]:
    """(public, private) /20s carved from the VPC range: public first, then private."""
    subnets = list(ipaddress.ip_network(vpc_cidr).subnets(new_prefix=20))
    if len(subnets) < 2 * zones:
        raise ValueError(f"{vpc_cidr} is too small for {zones} public and {zones} private /20 subnets")
    return [str(s) for s in subnets[:zones]], [str(s) for s in subnets[zones:2 * zones]]


_ZONE_ID = re.compile(r"^[a-z]{2,5}\d-az\d+$")


def zone_args(zone: str) -> dict[str, Any]:
    """A subnet's zone: an AZ ID (``use1-az1``) as ``availability_zone_id``, a name as ``availability_zone``."""
    return {"availability_zone_id": zone} if _ZONE_ID.match(zone) else {"availability_zone": zone}


def build_network(cfg: ProgramConfig, opts: pulumi.ResourceOptions) -> Network:
    if len(cfg.zones) < 2:
        raise ValueError("availability_zones: the platform spans at least two AZs")
    name = cfg.prefix
    vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=cfg.vpc_cidr, enable_dns_hostnames=True,
                      enable_dns_support=True, tags={"Name": f"{name}-vpc"}, opts=opts)
    child = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(parent=vpc))
    igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child)
    public_rt = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id,
                                   routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}], opts=child)
    vgw = aws.ec2.VpnGateway(f"{name}-vgw", vpc_id=vpc.id, amazon_side_asn=str(cfg.aws_bgp_asn),
                             tags={"Name": f"{name}-vgw"}, opts=child)
    public_cidrs, private_cidrs = subnet_cidrs(cfg.vpc_cidr, len(cfg.zones))
    public: list[aws.ec2.Subnet] = []
    private: list[aws.ec2.Subnet] = []
    private_rts: list[aws.ec2.RouteTable] = []
    nats: list[aws.ec2.NatGateway] = []
    for i, az in enumerate(cfg.zones):
        pub = aws.ec2.Subnet(
            f"{name}-public-{az}", vpc_id=vpc.id, cidr_block=public_cidrs[i], **zone_args(az),
            map_public_ip_on_launch=False,
            tags={"Name": f"{name}-public-{az}", "kubernetes.io/role/elb": "1"}, opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-public-{az}", subnet_id=pub.id, route_table_id=public_rt.id,
                                      opts=child)
        public.append(pub)
        # one NAT per AZ in production (an AZ outage keeps egress); one shared NAT otherwise
        if cfg.production or i == 0:
            eip = aws.ec2.Eip(f"{name}-nat-{az}", domain="vpc", opts=child)
            nats.append(aws.ec2.NatGateway(f"{name}-nat-{az}", allocation_id=eip.allocation_id,
                                           subnet_id=pub.id, tags={"Name": f"{name}-nat-{az}"}, opts=child))
        nat = nats[-1]
        priv = aws.ec2.Subnet(
            f"{name}-private-{az}", vpc_id=vpc.id, cidr_block=private_cidrs[i], **zone_args(az),
            map_public_ip_on_launch=False,
            tags={"Name": f"{name}-private-{az}", "kubernetes.io/role/internal-elb": "1"}, opts=child)
        rt = aws.ec2.RouteTable(f"{name}-private-{az}", vpc_id=vpc.id, opts=child)
        # a separate Route (not an inline route) so routes propagated from the VPN stay untouched
        aws.ec2.Route(f"{name}-private-{az}-default", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                      nat_gateway_id=nat.id, opts=child)
        aws.ec2.RouteTableAssociation(f"{name}-private-{az}", subnet_id=priv.id, route_table_id=rt.id, opts=child)
        aws.ec2.VpnGatewayRoutePropagation(f"{name}-vgw-{az}", vpn_gateway_id=vgw.id, route_table_id=rt.id,
                                           opts=child)
        private.append(priv)
        private_rts.append(rt)
    return Network(vpc, public, private, private_rts, nats, vgw)
