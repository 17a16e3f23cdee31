"""The GCP network: one private subnet for Dataproc, a Cloud Router, Cloud NAT on one static
egress address (the cluster's nodes have no public IPs), and firewall rules for the cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from programs.config import ProgramConfig

DATAPROC_TAG = "dataproc"


@dataclass(frozen=True)
class GcpNetwork:
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    router: gcp.compute.Router
    nat_address: gcp.compute.Address
    nat: gcp.compute.RouterNat


def build_gcp_network(cfg: ProgramConfig, opts: pulumi.ResourceOptions) -> GcpNetwork:
    name = cfg.prefix
    network = gcp.compute.Network(f"{name}-net", name=f"{name}-net", auto_create_subnetworks=False,
                                  routing_mode="GLOBAL", opts=opts)
    subnet = gcp.compute.Subnetwork(
        f"{name}-dataproc", name=f"{name}-dataproc", network=network.id, region=cfg.gcp_region,
        ip_cidr_range=cfg.gcp_subnet_cidr, private_ip_google_access=True,
        log_config={"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5,
                    "metadata": "INCLUDE_ALL_METADATA"},
        opts=opts)
    router = gcp.compute.Router(f"{name}-router", name=f"{name}-router", network=network.id,
                                region=cfg.gcp_region, bgp={"asn": cfg.gcp_bgp_asn}, opts=opts)
    address = gcp.compute.Address(f"{name}-nat", name=f"{name}-nat", region=cfg.gcp_region,
                                  address_type="EXTERNAL", network_tier="PREMIUM", opts=opts)
    nat = gcp.compute.RouterNat(
        f"{name}-nat", name=f"{name}-nat", router=router.name, region=cfg.gcp_region,
        nat_ip_allocate_option="MANUAL_ONLY", nat_ips=[address.self_link],
        source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
        subnetworks=[{"name": subnet.id, "source_ip_ranges_to_nats": ["ALL_IP_RANGES"]}],
        log_config={"enable": True, "filter": "ERRORS_ONLY"}, opts=opts)
    gcp.compute.Firewall(
        f"{name}-dataproc-internal", name=f"{name}-dataproc-internal", network=network.id, direction="INGRESS",
        source_ranges=[cfg.gcp_subnet_cidr], target_tags=[DATAPROC_TAG],
        allows=[{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}],
        description="Dataproc nodes talk to each other (YARN, HDFS, Flink)", opts=opts)
    gcp.compute.Firewall(
        f"{name}-deny-ingress", name=f"{name}-deny-ingress", network=network.id, direction="INGRESS",
        priority=65000, source_ranges=["0.0.0.0/0"], denies=[{"protocol": "all"}],
        description="nothing else reaches the network", opts=opts)
    return GcpNetwork(network, subnet, router, address, nat)
