"""The GCP program under mocks, and the cross-cloud link between it and the AWS stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from programs.config import ProgramConfig
from programs.gcp._dataproc import connector_url
from programs.platform import stage
from tests.programs.harness import Run, run

REPO = Path(__file__).resolve().parents[2]


def test_cloud_nat_egresses_through_one_static_address(dev: dict[str, Run]) -> None:
    gcp = dev["gcp"]
    nat = gcp.one("gcp:compute/routerNat:RouterNat").inputs
    address = gcp.one("gcp:compute/address:Address")
    assert nat["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat["natIps"] == [f"https://www.googleapis.com/compute/v1/projects/p/addresses/{address.name}"]
    assert address.inputs["addressType"] == "EXTERNAL"
    (subnet,) = nat["subnetworks"]
    assert nat["sourceSubnetworkIpRangesToNat"] == "LIST_OF_SUBNETWORKS" and subnet["name"]
    assert gcp.exports["nat_address"] == "34.86.1.2"


def test_dataproc_flink_private_least_privilege(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    gcp = dev["gcp"]
    config = gcp.one("gcp:dataproc/cluster:Cluster").inputs["clusterConfig"]
    gce = config["gceClusterConfig"]
    assert gce["internalIpOnly"] is True  # no public IPs on the nodes
    assert config["softwareConfig"]["optionalComponents"] == ["FLINK"]
    sa = gcp.one("gcp:serviceaccount/account:Account").inputs
    assert gce["serviceAccount"] == f"{sa['accountId']}@proj.iam.gserviceaccount.com"
    roles = {m.inputs["role"] for m in gcp.of_type("gcp:projects/iAMMember:IAMMember")}
    assert roles == {"roles/dataproc.worker", "roles/logging.logWriter", "roles/monitoring.metricWriter"}
    assert not any("admin" in r or "editor" in r or "owner" in r for r in roles)
    assert config["endpointConfig"]["enableHttpPortAccess"] is False


def test_the_streaming_cluster_is_never_deleted_for_idleness(dev: dict[str, Run], prod: dict[str, Run]) -> None:
    for run_ in (dev, prod):
        assert "lifecycleConfig" not in run_["gcp"].one("gcp:dataproc/cluster:Cluster").inputs["clusterConfig"]
    asked = ProgramConfig.for_stack("ci", image_tag="abc", dataproc_idle_delete_ttl_s=7200)
    upstream = {f"aws.{k}": v for k, v in dev["aws"].exports.items()}
    gcp = run(lambda: stage("gcp").program(asked, upstream))
    config = gcp.one("gcp:dataproc/cluster:Cluster").inputs["clusterConfig"]
    assert config["lifecycleConfig"] == {"idleDeleteTtl": "7200s"}  # only when the operator asks


def test_flink_checkpoints_go_to_a_bucket(dev: dict[str, Run]) -> None:
    gcp = dev["gcp"]
    config = gcp.one("gcp:dataproc/cluster:Cluster").inputs["clusterConfig"]
    props = config["softwareConfig"]["overrideProperties"]
    bucket = gcp.one("gcp:storage/bucket:Bucket", "-checkpoints").inputs["name"]
    assert props["flink:state.checkpoints.dir"] == f"gs://{bucket}/flink/checkpoints"
    assert props["flink:state.savepoints.dir"] == f"gs://{bucket}/flink/savepoints"
    assert gcp.exports["flink_checkpoint_dir"] == f"gs://{bucket}/flink"
    writers = {m.inputs["bucket"] for m in gcp.of_type("gcp:storage/bucketIAMMember:BucketIAMMember")
               if m.inputs["role"] == "roles/storage.objectAdmin"}
    assert bucket in writers  # the nodes' service account may write the checkpoints


def test_the_init_action_pins_flink_and_installs_pyflink(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    gcp = dev["gcp"]
    config = gcp.one("gcp:dataproc/cluster:Cluster").inputs["clusterConfig"]
    (action,) = config["initializationActions"]
    init = gcp.one("gcp:storage/bucketObject:BucketObject", "dataproc-init")
    assert action["script"] == f"gs://{init.inputs['bucket']}/{init.inputs['name']}"
    # the init action also reads the Kafka password on each node: it gets the secret's name only
    assert config["gceClusterConfig"]["metadata"] == {"flink-version": dev_cfg.dataproc_flink_version,
                                                      "kafka-password-secret": "ecomctl-dev-kafka-scram-id"}
    assert gcp.exports["kafka_password_secret"] == "ecomctl-dev-kafka-scram-id"
    assert gcp.exports["flink_version"] == dev_cfg.dataproc_flink_version


def test_buckets_private_and_job_packaged(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    gcp = dev["gcp"]
    for bucket in gcp.of_type("gcp:storage/bucket:Bucket"):
        assert bucket.inputs["publicAccessPrevention"] == "enforced"
        assert bucket.inputs["uniformBucketLevelAccess"] is True
    objects = {o.name: o.inputs for o in gcp.of_type("gcp:storage/bucketObject:BucketObject")}
    job = objects["ecomctl-dev-flink-job"]
    assert job["source"].path == str(REPO / "stream" / "job.py")
    archive = objects["ecomctl-dev-flink-archive"]["source"].assets
    assert {"stream/job.py", "stream/sql.py"} <= set(archive)
    jar = objects["ecomctl-dev-flink-connector"]
    assert jar["source"].uri == connector_url(dev_cfg.flink_kafka_connector_version)
    assert gcp.exports["flink_job_py"] == f"gs://{job['bucket']}/{job['name']}"
    assert gcp.exports["flink_connector_jar"].endswith(f"{dev_cfg.flink_kafka_connector_version}.jar")


def test_ha_vpn_four_tunnels_match_the_aws_connections(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    gcp = dev["gcp"]
    connections = gcp.of_type("aws:ec2/vpnConnection:VpnConnection")
    assert len(connections) == 2
    assert {c.inputs["vpnGatewayId"] for c in connections} == {dev["aws"].exports["vpn_gateway_id"]}
    cgws = sorted(c.inputs["ipAddress"] for c in gcp.of_type("aws:ec2/customerGateway:CustomerGateway"))
    assert cgws == sorted(["35.242.0.1", "35.220.0.1"])  # the HA VPN gateway's two interfaces
    peer = gcp.one("gcp:compute/externalVpnGateway:ExternalVpnGateway").inputs
    assert peer["redundancyType"] == "FOUR_IPS_REDUNDANCY"
    assert sorted(i["ipAddress"] for i in peer["interfaces"]) == ["52.0.1.1", "52.0.1.2", "52.0.3.1", "52.0.3.2"]
    tunnels = gcp.of_type("gcp:compute/vPNTunnel:VPNTunnel")
    assert len(tunnels) == 4
    for t in tunnels:
        assert t.inputs["ikeVersion"] == 2 and "sharedSecret" in t.secrets
        assert t.inputs["sharedSecret"].startswith("psk-")
    peers = gcp.of_type("gcp:compute/routerPeer:RouterPeer")
    assert {p.inputs["peerAsn"] for p in peers} == {dev_cfg.aws_bgp_asn}
    assert all(p.inputs["advertisedIpRanges"] == [{"range": dev_cfg.gcp_subnet_cidr,
                                                   "description": "the Dataproc subnet only"}] for p in peers)
    assert len(dev["aws"].of_type("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation")) == 2


def test_msk_admits_only_eks_and_the_dataproc_subnet(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    msk_sg = dev["aws"].exports["msk_security_group_id"]
    rules = [r.inputs for run in (dev["aws"], dev["gcp"])
             for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == msk_sg]
    sources = {(r.get("cidrIpv4") or r.get("referencedSecurityGroupId"), r["fromPort"], r["toPort"]) for r in rules}
    assert sources == {("sg-eks-cluster", 9096, 9096), ("sg-eks-cluster", 11001, 11002),
                       (dev_cfg.gcp_subnet_cidr, 9096, 9096)}
    assert dev["gcp"].exports["kafka_security_protocol"] == "SASL_SSL"
    assert dev["gcp"].exports["kafka_bootstrap"] == dev["aws"].exports["msk_bootstrap_brokers_sasl_scram"]


def test_dataproc_has_its_own_scram_user(dev: dict[str, Run]) -> None:
    gcp = dev["gcp"]
    secret = gcp.one("aws:secretsmanager/secret:Secret").inputs
    assert secret["name"] == "AmazonMSK_ecomctl-dev-dataproc-flink"
    assoc = gcp.one("aws:msk/singleScramSecretAssociation:SingleScramSecretAssociation").inputs
    assert assoc["clusterArn"] == dev["aws"].exports["msk_cluster_arn"]
    assert "kafka_password" in gcp.secret_exports
    assert "secretData" in gcp.one("gcp:secretmanager/secretVersion:SecretVersion").secrets
    member = gcp.one("gcp:secretmanager/secretIamMember:SecretIamMember").inputs
    assert member["role"] == "roles/secretmanager.secretAccessor"


def test_gcp_stage_needs_the_aws_outputs(dev_cfg: ProgramConfig) -> None:
    from programs.gcp import build_gcp

    with pytest.raises(ValueError, match="aws stage"):
        build_gcp(dev_cfg, {})
