"""The AWS program under mocks: the properties each resource must have, not just that it exists."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from blueprint.topology import TOPOLOGY
from programs.aws._files import REPO_ROOT
from programs.config import ProgramConfig
from programs.platform import stage
from tests.programs.harness import Rec, Run, run

REPO = Path(__file__).resolve().parents[2]


def test_vpc_spans_two_azs_with_public_private_subnets_and_nat(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    subnets = aws.of_type("aws:ec2/subnet:Subnet")
    private = [s for s in subnets if "-private-" in s.name]
    public = [s for s in subnets if "-public-" in s.name]
    # AZ IDs: the same physical zones in every account (names are shuffled per account)
    assert {s.inputs["availabilityZoneId"] for s in private} == set(dev_cfg.zones) == {"use1-az1", "use1-az2"}
    assert {s.inputs["availabilityZoneId"] for s in public} == set(dev_cfg.zones)
    assert not any("availabilityZone" in s.inputs for s in subnets)
    assert len(dev_cfg.zones) >= 2
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    routes = aws.of_type("aws:ec2/route:Route")
    assert len(routes) == len(private) and all(r.inputs["natGatewayId"] for r in routes)
    assert len(aws.of_type("aws:ec2/natGateway:NatGateway")) == 1  # one shared NAT outside production


def test_eks_api_public_only_for_admin_cidrs(prod: dict[str, Run]) -> None:
    vpc = prod["aws"].one("aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc["publicAccessCidrs"] == ["198.51.100.0/24"]


def test_production_has_one_nat_per_az(prod: dict[str, Run], prod_cfg: ProgramConfig) -> None:
    assert len(prod["aws"].of_type("aws:ec2/natGateway:NatGateway")) == len(prod_cfg.zones)


def test_eks_version_nodes_and_irsa(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    cluster = aws.one("aws:eks/cluster:Cluster")
    assert cluster.inputs["version"] == dev_cfg.kubernetes_version
    assert cluster.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.inputs["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster.inputs["vpcConfig"]["endpointPublicAccess"] is False  # no admin_cidrs: private API only
    group = aws.one("aws:eks/nodeGroup:NodeGroup")
    assert group.inputs["scalingConfig"] == {"minSize": dev_cfg.node_min, "desiredSize": dev_cfg.node_desired,
                                             "maxSize": dev_cfg.node_max}
    assert group.inputs["instanceTypes"] == list(dev_cfg.node_instance_types)
    addon = aws.one("aws:eks/addon:Addon", "vpc-cni")
    assert json.loads(addon.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    oidc = aws.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert oidc.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    for service in TOPOLOGY.services:
        role = aws.one("aws:iam/role:Role", f"ecomctl-dev-svc-{service.name}")
        stmt = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
        (sub,) = [v for k, v in stmt["Condition"]["StringEquals"].items() if k.endswith(":sub")]
        assert sub == f"system:serviceaccount:ecomctl:{service.name}"


def _no_open_ingress(aws: Run) -> None:
    for rule in aws.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        assert rule.inputs.get("cidrIpv4") != "0.0.0.0/0", rule.name
    for sg in aws.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not sg.inputs.get("ingresses"), sg.name


def test_rds_private_encrypted_backed_up_with_a_secret_password(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    rds = aws.one("aws:rds/instance:Instance")
    assert rds.inputs["engine"] == "mysql" and rds.inputs["engineVersion"].startswith("8.")
    assert rds.inputs["publiclyAccessible"] is False
    assert rds.inputs["storageEncrypted"] is True and rds.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert rds.inputs["backupRetentionPeriod"] >= 1
    assert "password" in rds.secrets  # generated, and a Pulumi secret
    assert rds.inputs["multiAz"] is False and rds.inputs["deletionProtection"] is False
    assert "rds_master_password" in aws.secret_exports and "mysql_passwords" in aws.secret_exports
    (rule,) = [r for r in aws.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.name.endswith("-rds-from-eks")]
    assert rule.inputs["fromPort"] == 3306 and rule.inputs["referencedSecurityGroupId"] == "sg-eks-cluster"
    params = aws.one("aws:rds/parameterGroup:ParameterGroup")
    assert rds.inputs["parameterGroupName"] == params.name  # the mock names it after the resource
    assert {"name": "character_set_server", "value": "utf8mb4"} in params.inputs["parameters"]
    assert {"name": "require_secure_transport", "value": "1"} in params.inputs["parameters"]
    # every deletion leaves a named final snapshot, even outside production
    assert rds.inputs["skipFinalSnapshot"] is False
    assert rds.inputs["finalSnapshotIdentifier"].startswith("ecomctl-dev-mysql-final-")
    _no_open_ingress(aws)


def test_production_rds_is_multi_az_and_protected(prod: dict[str, Run]) -> None:
    aws = prod["aws"]
    rds = aws.one("aws:rds/instance:Instance")
    assert rds.inputs["multiAz"] is True and rds.inputs["deletionProtection"] is True
    assert rds.inputs["skipFinalSnapshot"] is False
    assert all(t.inputs["deletionProtectionEnabled"] is True for t in aws.of_type("aws:dynamodb/table:Table"))
    assert aws.one("aws:eks/cluster:Cluster").inputs["deletionProtection"] is True
    assert all(r.inputs["forceDelete"] is False for r in aws.of_type("aws:ecr/repository:Repository"))
    assert aws.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is False


DATA_STORES = ("aws:rds/instance:Instance", "aws:dynamodb/table:Table", "aws:s3/bucket:Bucket",
               "aws:msk/cluster:Cluster")


def test_production_data_stores_are_protected_in_pulumi(prod: dict[str, Run], dev: dict[str, Run]) -> None:
    stores = [r for r in prod["aws"].resources if r.type in DATA_STORES]
    assert {r.type for r in stores} == set(DATA_STORES)
    assert [r.name for r in stores if not r.protect] == []  # `pulumi destroy` refuses them
    assert [r.name for r in dev["aws"].resources if r.protect] == []  # a dev stack comes down whole


def test_protection_is_the_operators_choice() -> None:
    cfg = ProgramConfig.for_stack("ci", image_tag="abc123", protect_data_stores="always")
    aws = run(lambda: stage("aws").program(cfg, {}))
    assert {r.type for r in aws.resources if r.protect} == set(DATA_STORES)
    with pytest.raises(ValueError, match="protect_data_stores"):
        _ = ProgramConfig.for_stack("ci", protect_data_stores="sometimes").protect


def test_log_groups_are_managed_with_the_stacks_retention(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    groups = {g.inputs["name"]: g.inputs for g in aws.of_type("aws:cloudwatch/logGroup:LogGroup")}
    function = aws.one("aws:lambda/function:Function").inputs
    cluster = aws.one("aws:eks/cluster:Cluster").inputs
    # the names AWS writes to: a service would otherwise create them itself, unmanaged and kept for ever
    assert f"/aws/lambda/{function['name']}" in groups and function["loggingConfig"]["logGroup"] in groups
    assert cluster["enabledClusterLogTypes"] and f"/aws/eks/{cluster['name']}/cluster" in groups
    assert {g["retentionInDays"] for g in groups.values()} == {dev_cfg.log_retention_days}
    attachments = [a.inputs["policyArn"] for a in aws.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
    assert not any("AWSLambdaBasicExecutionRole" in a for a in attachments)  # it may create any log group


def test_dynamodb_tables_match_topology_with_pitr_and_kms(dev: dict[str, Run]) -> None:
    tables = {t.inputs["name"]: t for t in dev["aws"].of_type("aws:dynamodb/table:Table")}
    assert set(tables) == {f"ecomctl-dev-{t.name}" for t in TOPOLOGY.tables}
    for spec in TOPOLOGY.tables:
        t = tables[f"ecomctl-dev-{spec.name}"].inputs
        assert t["pointInTimeRecovery"] == {"enabled": True}
        assert t["serverSideEncryption"]["enabled"] is True
        assert t["hashKey"] == spec.hash_key and t.get("rangeKey") == spec.range_key
        assert {i["name"] for i in t.get("globalSecondaryIndexes", [])} == {ix.name for ix in spec.indexes}
        assert ("ttl" in t) == (spec.ttl_attribute is not None)


def test_msk_tls_only_authenticated_encrypted_and_topics(dev: dict[str, Run], dev_cfg: ProgramConfig) -> None:
    aws = dev["aws"]
    msk = aws.one("aws:msk/cluster:Cluster").inputs
    assert msk["encryptionInfo"]["encryptionInTransit"] == {"clientBroker": "TLS", "inCluster": True}
    assert msk["encryptionInfo"]["encryptionAtRestKmsKeyArn"].startswith("arn:aws:kms:")
    assert msk["clientAuthentication"]["unauthenticated"] is False
    assert msk["clientAuthentication"]["sasl"]["scram"] is True
    assert msk["brokerNodeGroupInfo"]["connectivityInfo"]["publicAccess"]["type"] == "DISABLED"
    assert msk["numberOfBrokerNodes"] % len(dev_cfg.zones) == 0
    secret = aws.one("aws:secretsmanager/secret:Secret", "kafka-platform")
    assert secret.inputs["name"].startswith("AmazonMSK_") and secret.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert "secretString" in aws.one("aws:secretsmanager/secretVersion:SecretVersion").secrets
    topics = {t.inputs["name"]: t.inputs for t in aws.of_type("aws:msk/topic:Topic")}
    assert {n: t["partitionCount"] for n, t in topics.items()} == {t.name: t.partitions for t in TOPOLOGY.topics}
    for t in topics.values():  # a broker may be down without blocking acks=all producers
        assert 1 <= int(json.loads(t["configs"])["min.insync.replicas"]) < t["replicationFactor"]
    assert "auto.create.topics.enable=false" in aws.one("aws:msk/configuration:Configuration").inputs[
        "serverProperties"]


def test_bucket_private_encrypted_lifecycle_and_cors_for_the_storefront_only(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    block = aws.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    sse = aws.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    rules = aws.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs["rules"]
    assert any("abortIncompleteMultipartUpload" in r for r in rules)
    (cors,) = aws.one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").inputs["corsRules"]
    assert cors["allowedOrigins"] == ["https://shop.example.com"] and "POST" in cors["allowedMethods"]
    policy = json.loads(aws.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    assert policy["Statement"][0]["Effect"] == "Deny"  # plain-HTTP access denied


def test_browser_uploads_work_without_a_storefront_domain() -> None:
    bare = ProgramConfig.for_stack("ci", image_tag="abc123")
    aws = run(lambda: stage("aws").program(bare, {}))
    (cors,) = aws.one("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").inputs["corsRules"]
    assert cors["allowedOrigins"] == ["*"] and {"POST", "PUT"} <= set(cors["allowedMethods"])


def _handler_hash() -> tuple[str, set[str]]:
    files = {p.relative_to(REPO).as_posix(): p for p in (REPO / "services" / "file_processor").rglob("*.py")
             if "__pycache__" not in p.parts and p.name != "runner.py"}  # the local SQS poller stays home
    files["services/__init__.py"] = REPO / "services" / "__init__.py"
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return base64.b64encode(digest.digest()).decode(), set(files)


def test_lambda_is_the_local_handler_and_its_hash_drives_updates(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    fn = aws.one("aws:lambda/function:Function").inputs
    expected, names = _handler_hash()
    assert REPO_ROOT == REPO
    assert fn["sourceCodeHash"] == expected == aws.exports["lambda_source_hash"]
    assert set(fn["code"].assets) == names
    assert {a.path for a in fn["code"].assets.values()} == {str(REPO / n) for n in names}
    assert fn["handler"] == "services.file_processor.handler.handler"
    env = fn["environment"]["variables"]
    assert env["BUCKET_DATA"].startswith("ecomctl-dev-data-") and "QUEUE_FILE_UPLOADS_URL" not in env
    assert not any(k.startswith("AWS_ENDPOINT_URL") or k == "AWS_SECRET_ACCESS_KEY" for k in env)
    assert "AWS_REGION" not in env  # reserved: Lambda refuses a function that sets it
    perm = aws.one("aws:lambda/permission:Permission").inputs
    assert perm["principal"] == "s3.amazonaws.com" and perm["action"] == "lambda:InvokeFunction"
    assert perm["sourceArn"].startswith("arn:aws:s3:::ecomctl-dev-data-")
    (target,) = aws.one("aws:s3/bucketNotification:BucketNotification").inputs["lambdaFunctions"]
    assert target["filterPrefix"] == TOPOLOGY.bucket("data").notify_prefix
    assert target["events"] == ["s3:ObjectCreated:*"]


def test_sns_topic_and_subscriber_queue(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    (topic,) = aws.of_type("aws:sns/topic:Topic")
    assert topic.inputs["name"] == "ecomctl-dev-order-notifications" and topic.inputs["kmsMasterKeyId"]
    queues = {q.inputs["name"] for q in aws.of_type("aws:sqs/queue:Queue")}
    assert queues == {"ecomctl-dev-notification-deliveries"}  # the upload queue is the Lambda's, locally only
    sub = aws.one("aws:sns/topicSubscription:TopicSubscription").inputs
    assert sub["protocol"] == "sqs"


def test_ecr_login_uses_the_stacks_provider(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    logins = [c for c in aws.calls if c[0] == "aws:ecr/getAuthorizationToken:getAuthorizationToken"]
    assert len(logins) == len(TOPOLOGY.services)
    assert all(c[2] and "ecomctl-dev-aws" in c[2] for c in logins), [c[2] for c in logins]


def test_vpc_cni_takes_over_the_default_add_on(dev: dict[str, Run]) -> None:
    cni = dev["aws"].one("aws:eks/addon:Addon", "vpc-cni").inputs
    assert cni["resolveConflictsOnCreate"] == "OVERWRITE" and cni["resolveConflictsOnUpdate"] == "OVERWRITE"


def test_default_image_tag_follows_the_images_inputs(tmp_path: Path) -> None:
    from programs.aws import _images

    cfg = ProgramConfig.for_stack("ci")
    assert cfg.image_tag == "" and _images.image_tag(cfg) == _images.content_tag()
    for rel in _images.image_inputs():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / rel).read_bytes())
    before = _images.content_tag(tmp_path)
    assert before == _images.content_tag()  # the same inputs, the same tag: nothing is rebuilt
    (tmp_path / "services" / "kit" / "mysql.py").write_text("# changed\n")
    assert _images.content_tag(tmp_path) != before  # a changed tree, a new tag: an immutable repo accepts it
    aws = run(lambda: stage("aws").program(cfg, {}))
    tags = {t.rsplit(":", 1)[1] for i in aws.of_type("docker-build:index:Image") for t in i.inputs["tags"]}
    assert tags == {before} and aws.exports["image_tag"] == before


def test_ecr_immutable_scanned_and_images_pushed_with_the_config_tag(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    repos = aws.of_type("aws:ecr/repository:Repository")
    assert len(repos) == len(TOPOLOGY.services)
    for repo in repos:
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
        assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    images = {i.name: i.inputs for i in aws.of_type("docker-build:index:Image")}
    for service in TOPOLOGY.services:
        image = images[f"ecomctl-dev-{service.name}"]
        assert image["push"] is True
        assert image["buildArgs"] == {"SERVICE_PACKAGE": service.package}
        assert [t.rsplit(":", 1)[1] for t in image["tags"]] == ["3f2a9c1"]
        assert Path(image["dockerfile"]["location"]).is_file()
        assert (REPO / service.package.replace(".", "/") / "__main__.py").is_file()  # the image's CMD


def test_latest_tag_is_refused() -> None:
    with pytest.raises(Exception, match="latest"):
        run(lambda: stage("aws").program(ProgramConfig.for_stack("ci", image_tag="latest"), {}))


def _policy(aws: Run, name: str) -> dict[str, object]:
    found: list[Rec] = [r for r in aws.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == name]
    return json.loads(found[0].inputs["policy"]) if found else {}


def test_one_least_privilege_role_per_service(dev: dict[str, Run]) -> None:
    aws = dev["aws"]
    for service in TOPOLOGY.services:
        policy = _policy(aws, f"ecomctl-dev-svc-{service.name}")
        resources = json.dumps(policy)
        for table in TOPOLOGY.tables:
            assert (f":ecomctl-dev-{table.name}\"" in resources or f":ecomctl-dev-{table.name}/" in resources) == (
                table.name in service.tables), (service.name, table.name)
        assert ("s3:" in resources) == bool(service.buckets)
        assert ("sns:Publish" in resources) == bool(service.notification_topics)
        for stmt in policy.get("Statement", []):  # type: ignore[union-attr]
            assert stmt["Resource"] != "*" and not any(a.endswith(":*") for a in stmt["Action"])


def test_the_service_image_installs_every_third_party_module_the_services_import() -> None:
    import re
    import sys

    from tests.programs.service_image import requirements

    installed = set(requirements())
    module_of = {"pyjwt": "jwt", "argon2-cffi": "argon2", "prometheus-client": "prometheus_client"}
    modules = {module_of.get(p, p.replace("-", "_")) for p in installed}
    imported = set()
    for path in (REPO / "services").rglob("*.py"):
        for line in path.read_text().splitlines():
            found = re.match(r"(?:import|from) ([a-zA-Z_][a-zA-Z0-9_]*)", line)
            if found:
                imported.add(found.group(1))
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in {"services", "__future__"}}
    transitive = {"botocore", "anyio"}  # installed with boto3 / litestar
    assert third_party - transitive <= modules, third_party - transitive - modules
