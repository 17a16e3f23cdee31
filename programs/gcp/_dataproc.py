"""Dataproc with the FLINK component: private nodes under a least-privilege service account,
buckets (staging, temp, jobs, checkpoints), the PyFlink job and the Kafka connector jar packaged
to GCS, and an initialisation action that checks the image's Flink version, installs the
matching PyFlink and writes the Kafka password file the job's clients read (``KAFKA_PASSWORD_FILE``).
The cluster runs a streaming job for ever: no idle deletion unless asked."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_gcp as gcp

from programs.config import ProgramConfig

from ._network import DATAPROC_TAG, GcpNetwork

REPO_ROOT = Path(__file__).resolve().parents[2]
STREAM_DIR = REPO_ROOT / "stream"
MAVEN = "https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kafka"
INIT_ACTION = Path(__file__).with_name("dataproc_init.sh")
# where the initialisation action writes the Kafka password on every node (stream/kafka_secret.py)
KAFKA_PASSWORD_FILE = "/etc/ecomctl/kafka-client.properties"


def stream_files(root: Path = REPO_ROOT) -> dict[str, Path]:
    """Archive path -> file: the ``stream`` package (job.py, sql.py, ...)."""
    pkg = root / "stream"
    return {p.relative_to(root).as_posix(): p for p in sorted(pkg.glob("*.py"))} if pkg.is_dir() else {}


def stream_hash(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def connector_url(version: str) -> str:
    return f"{MAVEN}/{version}/flink-sql-connector-kafka-{version}.jar"


@dataclass(frozen=True)
class Dataproc:
    cluster: gcp.dataproc.Cluster
    service_account: gcp.serviceaccount.Account
    buckets: dict[str, gcp.storage.Bucket]
    job_py: pulumi.Output[str]
    job_archive: pulumi.Output[str]
    connector_jar: pulumi.Output[str]
    checkpoint_dir: pulumi.Output[str]


def _bucket(cfg: ProgramConfig, role: str, opts: pulumi.ResourceOptions, *, expire_days: int | None = None,
            versioned: bool = False) -> gcp.storage.Bucket:
    return gcp.storage.Bucket(
        f"{cfg.prefix}-{role}", name=f"{cfg.prefix}-{role}-{cfg.gcp_project}"[:63], location=cfg.gcp_region.upper(),
        uniform_bucket_level_access=True, public_access_prevention="enforced",
        force_destroy=not cfg.production, versioning={"enabled": versioned},
        lifecycle_rules=[{"action": {"type": "Delete"}, "condition": {"age": expire_days}}] if expire_days else None,
        opts=opts)


def build_dataproc(cfg: ProgramConfig, net: GcpNetwork, kafka_secret: gcp.secretmanager.Secret,
                   kafka_secret_version: gcp.secretmanager.SecretVersion, opts: pulumi.ResourceOptions) -> Dataproc:
    name = cfg.prefix
    buckets = {"staging": _bucket(cfg, "staging", opts), "temp": _bucket(cfg, "temp", opts, expire_days=7),
               "jobs": _bucket(cfg, "jobs", opts, versioned=True),
               "checkpoints": _bucket(cfg, "checkpoints", opts)}
    sa = gcp.serviceaccount.Account(f"{name}-dataproc", account_id=f"{cfg.stack}-dataproc"[:30],
                                    display_name=f"{name} Dataproc Flink nodes", opts=opts)
    member = pulumi.Output.concat("serviceAccount:", sa.email)
    for role in ("roles/dataproc.worker", "roles/logging.logWriter", "roles/monitoring.metricWriter"):
        gcp.projects.IAMMember(f"{name}-dataproc-{role.split('/')[1]}", project=cfg.gcp_project, role=role,
                               member=member, opts=opts)
    for key in ("staging", "temp", "checkpoints"):
        gcp.storage.BucketIAMMember(f"{name}-dataproc-{key}", bucket=buckets[key].name,
                                    role="roles/storage.objectAdmin", member=member, opts=opts)
    gcp.storage.BucketIAMMember(f"{name}-dataproc-jobs", bucket=buckets["jobs"].name,
                                role="roles/storage.objectViewer", member=member, opts=opts)
    secret_access = gcp.secretmanager.SecretIamMember(f"{name}-dataproc-kafka", secret_id=kafka_secret.id,
                                      role="roles/secretmanager.secretAccessor", member=member, opts=opts)

    files = stream_files()
    version = stream_hash(files)
    jobs = buckets["jobs"]
    job = gcp.storage.BucketObject(
        f"{name}-flink-job", bucket=jobs.name, name=f"flink/{version}/job.py",
        source=pulumi.FileAsset(str(files.get("stream/job.py", STREAM_DIR / "job.py"))), opts=opts)
    archive = gcp.storage.BucketObject(
        f"{name}-flink-archive", bucket=jobs.name, name=f"flink/{version}/stream.zip",
        source=pulumi.AssetArchive({path: pulumi.FileAsset(str(p)) for path, p in files.items()}), opts=opts)
    jar_name = f"flink/lib/flink-sql-connector-kafka-{cfg.flink_kafka_connector_version}.jar"
    jar = gcp.storage.BucketObject(
        f"{name}-flink-connector", bucket=jobs.name, name=jar_name,
        source=pulumi.RemoteAsset(connector_url(cfg.flink_kafka_connector_version)), opts=opts)

    init = gcp.storage.BucketObject(
        f"{name}-dataproc-init", bucket=jobs.name, name=f"init/{stream_hash({'init': INIT_ACTION})}/dataproc_init.sh",
        source=pulumi.FileAsset(str(INIT_ACTION)), opts=opts)
    checkpoints = pulumi.Output.concat("gs://", buckets["checkpoints"].name, "/flink")

    disk: gcp.dataproc.ClusterClusterConfigMasterConfigDiskConfigArgsDict = {
        "boot_disk_type": "pd-balanced", "boot_disk_size_gb": 100}
    cluster_config: gcp.dataproc.ClusterClusterConfigArgsDict = {
        "staging_bucket": buckets["staging"].name,
        "temp_bucket": buckets["temp"].name,
        "gce_cluster_config": {
            "subnetwork": net.subnet.id,
            "internal_ip_only": True,
            "service_account": sa.email,
            "service_account_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "tags": [DATAPROC_TAG],
            "shielded_instance_config": {"enable_secure_boot": True, "enable_vtpm": True,
                                         "enable_integrity_monitoring": True},
            # the initialisation action reads the password on each node (a name, not the value)
            "metadata": {"flink-version": cfg.dataproc_flink_version, "kafka-password-secret": kafka_secret.id},
        },
        "initialization_actions": [{"script": pulumi.Output.concat("gs://", init.bucket, "/", init.name),
                                    "timeout_sec": 900}],
        "master_config": {"num_instances": 1, "machine_type": cfg.dataproc_machine_type, "disk_config": disk},
        "worker_config": {"num_instances": cfg.dataproc_workers, "machine_type": cfg.dataproc_machine_type,
                          "disk_config": disk},
        "software_config": {
            "image_version": cfg.dataproc_image_version,
            "optional_components": ["FLINK"],
            "override_properties": {
                "dataproc:dataproc.logging.stackdriver.enable": "true",
                # durable state: checkpoints and savepoints outlive any node
                "flink:state.checkpoints.dir": pulumi.Output.concat(checkpoints, "/checkpoints"),
                "flink:state.savepoints.dir": pulumi.Output.concat(checkpoints, "/savepoints"),
            },
        },
        "endpoint_config": {"enable_http_port_access": False},
        # the streaming job never ends, so "idle" would never be true of a working cluster; an idle
        # TTL is only for an operator who asks for one on a non-production stack
        "lifecycle_config": {"idle_delete_ttl": f"{cfg.dataproc_idle_delete_ttl_s}s"}
        if cfg.dataproc_idle_delete_ttl_s > 0 and not cfg.production else None,
    }
    cluster = gcp.dataproc.Cluster(
        f"{name}-flink", name=f"{name}-flink"[:51], region=cfg.gcp_region, project=cfg.gcp_project,
        graceful_decommission_timeout="120s", cluster_config=cluster_config,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(
            depends_on=[net.nat, kafka_secret_version, secret_access])))

    def gs(obj: gcp.storage.BucketObject) -> pulumi.Output[str]:
        return pulumi.Output.concat("gs://", obj.bucket, "/", obj.name)

    return Dataproc(cluster, sa, buckets, gs(job), gs(archive), gs(jar), checkpoints)
