"""The configuration of one cloud stack: every key, its type and default, read in one place.

``CONFIG_KEYS`` is the table the CLI prints (``ecomctl`` reads it, never restates it);
``ProgramConfig.from_pulumi_config()`` is the only reader of ``pulumi.Config("ecomctl")``;
``ProgramConfig.for_stack(name, **overrides)`` builds one without Pulumi (tests, offline preview).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

PRODUCTION_STACKS = frozenset({"prod", "production"})
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,18}[a-z0-9]$")
"""A stack name: it prefixes every physical name (S3 and GCS buckets, a GCP service account id
of at most 30 characters, an RDS identifier), so lowercase letters, digits and inner hyphens,
2 to 20 characters."""
GITOPS_OWNERS = ("pulumi", "argocd")
NODE_AUTOSCALERS = ("cluster-autoscaler", "none")
PROTECT_CHOICES = ("production", "always", "never")
# two AZ IDs per region that EKS, RDS and MSK (kafka.t3.small) all support
DEFAULT_ZONE_IDS: dict[str, tuple[str, str]] = {
    "us-east-1": ("use1-az1", "use1-az2"),
    "us-east-2": ("use2-az1", "use2-az2"),
    "us-west-2": ("usw2-az1", "usw2-az2"),
    "eu-west-1": ("euw1-az1", "euw1-az2"),
    "eu-central-1": ("euc1-az1", "euc1-az2"),
}


def check_stack_name(name: str) -> None:
    """Raise ``ValueError`` unless ``name`` can prefix every physical name of the stack."""
    if not STACK_NAME.match(name):
        raise ValueError(f"stack name {name!r}: use 2-20 lowercase letters, digits and inner hyphens, "
                         "starting with a letter")


@dataclass(frozen=True)
class ConfigKey:
    """One documented configuration key (``pulumi config set ecomctl:<name> <value>``)."""

    name: str
    type: str
    default: Any
    secret: bool
    help: str


@dataclass(frozen=True)
class ProgramConfig:
    """Everything the programs need to know about one stack besides the topology."""

    stack: str
    production: bool = False
    aws_region: str = "us-east-1"
    availability_zones: tuple[str, ...] = ()
    vpc_cidr: str = "10.40.0.0/16"
    kubernetes_version: str = "1.35"
    node_instance_types: tuple[str, ...] = ("t3.large",)
    node_min: int = 2
    node_desired: int = 3
    node_max: int = 6
    rds_instance_class: str = "db.t4g.medium"
    rds_allocated_storage_gb: int = 20
    rds_backup_retention_days: int = 7
    msk_instance_type: str = "kafka.t3.small"
    msk_broker_count: int = 2
    msk_kafka_version: str = "3.8.x"
    msk_volume_gb: int = 50
    storefront_domain: str = ""
    storefront_origin: str = ""
    admin_cidrs: tuple[str, ...] = ()
    image_tag: str = ""
    public_certificate_arn: str = ""
    gitops_owner: str = "pulumi"
    gitops_repo_url: str = ""
    gitops_revision: str = "main"
    gitops_path: str = "deploy/k8s"
    node_autoscaler: str = "cluster-autoscaler"
    protect_data_stores: str = "production"
    log_retention_days: int = 30
    gcp_project: str = ""
    gcp_region: str = "us-east4"
    gcp_subnet_cidr: str = "10.60.0.0/20"
    gcp_bgp_asn: int = 65010
    aws_bgp_asn: int = 64512
    dataproc_image_version: str = "2.2-debian12"
    dataproc_machine_type: str = "n2-standard-4"
    dataproc_workers: int = 2
    dataproc_idle_delete_ttl_s: int = 0
    dataproc_flink_version: str = "1.17"
    flink_kafka_connector_version: str = "3.0.0-1.17"

    @classmethod
    def for_stack(cls, name: str, **overrides: Any) -> ProgramConfig:
        """Defaults for stack ``name`` (production when the name says so), then ``overrides``."""
        check_stack_name(name)
        base = cls(stack=name, production=name in PRODUCTION_STACKS)
        return dataclasses.replace(base, **overrides) if overrides else base

    @classmethod
    def from_pulumi_config(cls) -> ProgramConfig:
        """Read ``ecomctl:*`` from the current Pulumi stack; unset keys keep their defaults."""
        import pulumi

        conf = pulumi.Config("ecomctl")
        stack = pulumi.get_stack()
        values: dict[str, Any] = {}
        for key in CONFIG_KEYS:
            if key.name == "production":
                raw_bool = conf.get_bool(key.name)
                if raw_bool is not None:
                    values[key.name] = raw_bool
                continue
            raw = conf.get(key.name)
            if raw is not None:
                values[key.name] = parse_value(key, raw)
        return cls.for_stack(stack, **values)

    @property
    def zones(self) -> tuple[str, ...]:
        """The AZ IDs in use: ``availability_zones``, or the region's two default AZ IDs.

        AZ IDs (``use1-az1``) name the same physical zone in every account; AZ names
        (``us-east-1a``) are shuffled per account, so an instance type or EKS support known for
        an AZ ID may be missing from the AZ an account calls ``a``.
        """
        if self.availability_zones:
            return self.availability_zones
        if self.aws_region not in DEFAULT_ZONE_IDS:
            raise ValueError(f"availability_zones: no default AZ IDs for {self.aws_region}; "
                             "set two AZ IDs of the region (aws ec2 describe-availability-zones)")
        return DEFAULT_ZONE_IDS[self.aws_region]

    @property
    def protect(self) -> bool:
        """Whether data stores carry Pulumi's ``protect`` (default: on a production stack)."""
        if self.protect_data_stores not in PROTECT_CHOICES:
            raise ValueError(f"protect_data_stores: one of {', '.join(PROTECT_CHOICES)}")
        return self.protect_data_stores == "always" or (self.production and self.protect_data_stores != "never")

    @property
    def prefix(self) -> str:
        """The prefix of every physical name in this stack (``ecomctl-<stack>``)."""
        return f"ecomctl-{self.stack}"

    def physical_name(self, logical: str) -> str:
        """A cloud resource name: unique per stack, lowercase, at most 63 characters."""
        return f"{self.prefix}-{logical}".lower()[:63]

    @property
    def cors_origin(self) -> str:
        """The one browser origin the data bucket and the gateway accept."""
        if self.storefront_origin:
            return self.storefront_origin
        if self.storefront_domain:
            return f"https://{self.storefront_domain}"
        return ""


def parse_value(key: ConfigKey, raw: str) -> Any:
    """A config string as the key's Python type (``tuple[str]`` is comma-separated)."""
    if key.type == "int":
        return int(raw)
    if key.type == "bool":
        return raw.strip().lower() in {"1", "true", "yes"}
    if key.type == "list[str]":
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


_HELP: dict[str, str] = {
    "stack": "the stack name (set by Pulumi, not a config key)",
    "production": "production safeguards: RDS multi-AZ and deletion protection, no idle-delete on Dataproc",
    "aws_region": "AWS region of the VPC, EKS, RDS, MSK, S3, Lambda",
    "availability_zones": "at least two AZ IDs of aws_region (e.g. use1-az1), one public and one private "
                          "subnet each (empty: two AZ IDs known to support EKS, RDS and MSK in the region)",
    "vpc_cidr": "the AWS VPC range (must not overlap gcp_subnet_cidr)",
    "kubernetes_version": "EKS control-plane version (a version in EKS standard support)",
    "node_instance_types": "managed node group instance types",
    "node_min": "node group minimum size",
    "node_desired": "node group desired size",
    "node_max": "node group maximum size",
    "rds_instance_class": "RDS MySQL 8 instance class",
    "rds_allocated_storage_gb": "RDS storage (GiB)",
    "rds_backup_retention_days": "automated backup retention (days, >= 1)",
    "msk_instance_type": "MSK broker instance type",
    "msk_broker_count": "MSK brokers (a multiple of the number of AZs)",
    "msk_kafka_version": "MSK Kafka version",
    "msk_volume_gb": "EBS volume per broker (GiB)",
    "storefront_domain": "public host name of the storefront (empty: the load balancer's name)",
    "storefront_origin": "the browser origin allowed by CORS (default https://<storefront_domain>)",
    "admin_cidrs": "CIDRs that may reach Grafana and Argo CD (empty: internal load balancers only)",
    "image_tag": "tag of every service image (empty: a hash of the image's inputs, unique per build; "
                 "never 'latest')",
    "public_certificate_arn": "ACM certificate for the storefront: HTTPS on 443, HTTP redirected "
                              "(empty: plain HTTP on 80)",
    "gitops_owner": "who applies the platform's workload objects: 'pulumi' (the k8s stage) or 'argocd' "
                    "(an Argo CD Application syncing gitops_repo_url)",
    "gitops_repo_url": "the git repository Argo CD syncs the rendered manifests from (required when "
                       "gitops_owner is argocd)",
    "gitops_revision": "the branch or tag Argo CD follows",
    "gitops_path": "the folder of rendered manifests in that repository (`ecomctl render`)",
    "node_autoscaler": "adds EKS nodes when pods do not fit: 'cluster-autoscaler' or 'none'",
    "protect_data_stores": "Pulumi protect on RDS, DynamoDB, S3 and MSK: 'production' (production stacks "
                           "only), 'always' or 'never'",
    "log_retention_days": "retention of the CloudWatch log groups the stack manages (days)",
    "gcp_project": "GCP project of the Dataproc side (required: no default)",
    "gcp_region": "GCP region of the Dataproc side",
    "gcp_subnet_cidr": "the Dataproc subnet (the only range MSK admits from GCP)",
    "gcp_bgp_asn": "BGP ASN of the Cloud Router (HA VPN)",
    "aws_bgp_asn": "BGP ASN of the AWS virtual private gateway (HA VPN)",
    "dataproc_image_version": "Dataproc image (its Flink version decides the connector)",
    "dataproc_machine_type": "Dataproc master and worker machine type",
    "dataproc_workers": "Dataproc primary workers",
    "dataproc_idle_delete_ttl_s": "delete the Dataproc cluster after this idle time (seconds; 0: never, "
                                  "the streaming job runs for ever)",
    "dataproc_flink_version": "the Flink major.minor the Dataproc image ships (its initialisation action "
                              "checks it and installs the matching PyFlink)",
    "flink_kafka_connector_version": "org.apache.flink:flink-sql-connector-kafka version for the Dataproc Flink",
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, tuple):
        return "list[str]"
    return "str"


def _keys() -> tuple[ConfigKey, ...]:
    defaults = ProgramConfig(stack="dev")
    return tuple(
        ConfigKey(f.name, _type_name(getattr(defaults, f.name)), getattr(defaults, f.name), False, _HELP[f.name])
        for f in dataclasses.fields(ProgramConfig)
        if f.name != "stack"
    )


CONFIG_KEYS: tuple[ConfigKey, ...] = _keys()
"""Every ``ecomctl:<name>`` key: name, type, default, secret, help (no key is a secret: every
password is generated by the programs and kept as a Pulumi secret)."""
