"""The cross-cloud link: an HA VPN between the Cloud Router and the AWS VPC's virtual private
gateway (two AWS VPN connections = four IPsec tunnels, IKEv2, BGP), the MSK security-group rule
that admits exactly the Dataproc subnet on the SASL/SCRAM-over-TLS port, and the Dataproc SCRAM
user. This stage creates the AWS side too (with an AWS provider): it is the one that knows both."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_gcp as gcp
import pulumi_random as random

from programs.aws._data import password
from programs.aws._msk import SCRAM_PORT, scram_secret
from programs.config import ProgramConfig

from ._network import GcpNetwork

DATAPROC_KAFKA_USER = "dataproc-flink"


@dataclass(frozen=True)
class Link:
    ha_gateway: gcp.compute.HaVpnGateway
    connections: list[aws.ec2.VpnConnection]
    tunnels: list[gcp.compute.VPNTunnel]
    peers: list[gcp.compute.RouterPeer]
    msk_ingress: aws.vpc.SecurityGroupIngressRule
    kafka_password: random.RandomPassword


def _interface_address(index: int, interfaces: Sequence[Any]) -> str:
    return str(interfaces[index].ip_address or "")


def tunnel_endpoints(conn: aws.ec2.VpnConnection) -> list[tuple[pulumi.Output[str], pulumi.Output[str],
                                                                pulumi.Output[str], pulumi.Output[str]]]:
    """Per tunnel: (AWS outside address, pre-shared key, GCP-side inside /30 address, AWS-side inside address)."""
    return [(conn.tunnel1_address, conn.tunnel1_preshared_key, conn.tunnel1_cgw_inside_address,
             conn.tunnel1_vgw_inside_address),
            (conn.tunnel2_address, conn.tunnel2_preshared_key, conn.tunnel2_cgw_inside_address,
             conn.tunnel2_vgw_inside_address)]


def build_link(cfg: ProgramConfig, net: GcpNetwork, upstream: Mapping[str, Any], gcp_opts: pulumi.ResourceOptions,
               aws_opts: pulumi.ResourceOptions) -> Link:
    name = cfg.prefix
    ha = gcp.compute.HaVpnGateway(f"{name}-havpn", name=f"{name}-havpn", region=cfg.gcp_region,
                                  network=net.network.id, opts=gcp_opts)
    connections: list[aws.ec2.VpnConnection] = []
    for i in range(2):
        cgw = aws.ec2.CustomerGateway(
            f"{name}-gcp-{i}", bgp_asn=str(cfg.gcp_bgp_asn), type="ipsec.1",
            ip_address=ha.vpn_interfaces.apply(functools.partial(_interface_address, i)),
            tags={"Name": f"{name}-gcp-{i}"}, opts=aws_opts)
        connections.append(aws.ec2.VpnConnection(
            f"{name}-gcp-{i}", vpn_gateway_id=upstream["aws.vpn_gateway_id"], customer_gateway_id=cgw.id,
            type="ipsec.1", static_routes_only=False,
            tunnel1_ike_versions=["ikev2"], tunnel2_ike_versions=["ikev2"], opts=aws_opts))
    endpoints = [t for c in connections for t in tunnel_endpoints(c)]
    peer_gw = gcp.compute.ExternalVpnGateway(
        f"{name}-aws", name=f"{name}-aws", redundancy_type="FOUR_IPS_REDUNDANCY",
        interfaces=[{"id": i, "ip_address": ep[0]} for i, ep in enumerate(endpoints)],
        description="the AWS VPN endpoints of the two VPN connections", opts=gcp_opts)
    tunnels: list[gcp.compute.VPNTunnel] = []
    peers: list[gcp.compute.RouterPeer] = []
    for i, (_, psk, cgw_inside, vgw_inside) in enumerate(endpoints):
        shared_secret: pulumi.Output[str] = pulumi.Output.secret(psk)
        tunnel = gcp.compute.VPNTunnel(
            f"{name}-tunnel-{i}", name=f"{name}-tunnel-{i}", region=cfg.gcp_region,
            vpn_gateway=ha.id, vpn_gateway_interface=i // 2,
            peer_external_gateway=peer_gw.id, peer_external_gateway_interface=i,
            shared_secret=shared_secret, ike_version=2, router=net.router.id, opts=gcp_opts)
        iface = gcp.compute.RouterInterface(
            f"{name}-tunnel-{i}", name=f"{name}-tunnel-{i}", router=net.router.name, region=cfg.gcp_region,
            ip_range=pulumi.Output.concat(cgw_inside, "/30"), vpn_tunnel=tunnel.name, opts=gcp_opts)
        peers.append(gcp.compute.RouterPeer(
            f"{name}-tunnel-{i}", name=f"{name}-tunnel-{i}", router=net.router.name, region=cfg.gcp_region,
            peer_ip_address=vgw_inside, peer_asn=cfg.aws_bgp_asn, interface=iface.name,
            advertised_route_priority=100, advertise_mode="CUSTOM",
            advertised_ip_ranges=[{"range": cfg.gcp_subnet_cidr, "description": "the Dataproc subnet only"}],
            opts=gcp_opts))
        tunnels.append(tunnel)
    ingress = aws.vpc.SecurityGroupIngressRule(
        f"{name}-msk-from-dataproc", security_group_id=upstream["aws.msk_security_group_id"],
        ip_protocol="tcp", from_port=SCRAM_PORT, to_port=SCRAM_PORT, cidr_ipv4=cfg.gcp_subnet_cidr,
        description="Kafka SASL_SSL from the Dataproc subnet, over the HA VPN", opts=aws_opts)
    pw = password(f"{name}-kafka-{DATAPROC_KAFKA_USER}", aws_opts)
    scram_secret(f"{name}-kafka-{DATAPROC_KAFKA_USER}", f"{name}-{DATAPROC_KAFKA_USER}", DATAPROC_KAFKA_USER,
                 pw.result, upstream["aws.msk_cluster_arn"], upstream["aws.kms_key_arn"], aws_opts)
    return Link(ha, connections, tunnels, peers, ingress, pw)
