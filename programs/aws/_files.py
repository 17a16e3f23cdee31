"""The private data bucket and the Lambda file processor built from the very handler files the
local runtime runs (``services/file_processor/``); their content hash drives the updates."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from blueprint.topology import Bucket, Topology, Worker
from programs.config import ProgramConfig

from ._data import protected

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PACKAGE = "services.file_processor"
# Lambda sets these itself and rejects a function that configures them
LAMBDA_RESERVED_ENV = frozenset({
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER", "_X_AMZN_TRACE_ID",
})
LAMBDA_RUNTIME = "python3.11"
# what the Lambda runtime itself does for the function: write its logs, send X-Ray segments
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]  # no resource-level permissions


def runtime_policy(log_group_arn: str) -> dict[str, object]:
    """The function's own needs besides its work: its log group, and X-Ray (tracing is Active)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Logs", "Effect": "Allow", "Action": LOG_ACTIONS, "Resource": [f"{log_group_arn}:*"]},
        {"Sid": "Tracing", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": ["*"]}]}


LOCAL_ONLY = frozenset({"runner.py"})
"""Modules of the handler package that only the local stack runs (the SQS poller standing in for
the Lambda trigger, with its Prometheus endpoint): not shipped in the function's archive."""


def handler_files(root: Path = REPO_ROOT, package: str = HANDLER_PACKAGE) -> dict[str, Path]:
    """Archive path -> file: the handler package's ``.py`` files and its parent packages' ``__init__``."""
    parts = package.split(".")
    files: dict[str, Path] = {}
    for depth in range(1, len(parts)):
        init = root.joinpath(*parts[:depth], "__init__.py")
        if init.is_file():
            files[init.relative_to(root).as_posix()] = init
    pkg_dir = root.joinpath(*parts)
    for path in sorted(pkg_dir.rglob("*.py")) if pkg_dir.is_dir() else []:
        if "__pycache__" not in path.parts and path.name not in LOCAL_ONLY:
            files[path.relative_to(root).as_posix()] = path
    return files


def source_hash(files: Mapping[str, Path]) -> str:
    """base64(sha256) over each archive path and its bytes, in path order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes() + b"\0")
    return base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class Files:
    buckets: dict[str, aws.s3.Bucket]
    function: aws.lambda_.Function
    role: aws.iam.Role
    source_hash: str


def _bucket(cfg: ProgramConfig, b: Bucket, suffix: pulumi.Input[str], kms_key: aws.kms.Key,
            opts: pulumi.ResourceOptions) -> aws.s3.Bucket:
    name = f"{cfg.prefix}-{b.name}"
    bucket = aws.s3.Bucket(name, bucket=pulumi.Output.concat(cfg.physical_name(b.name), "-", suffix),
                           force_destroy=not cfg.production, opts=protected(cfg, opts))
    aws.s3.BucketPublicAccessBlock(name, bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                                   ignore_public_acls=True, restrict_public_buckets=True, opts=opts)
    aws.s3.BucketOwnershipControls(name, bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
                                   opts=opts)
    aws.s3.BucketServerSideEncryptionConfiguration(name, bucket=bucket.id, rules=[{
        "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                     "kms_master_key_id": kms_key.arn},
        "bucket_key_enabled": True}], opts=opts)
    aws.s3.BucketVersioning(name, bucket=bucket.id, versioning_configuration={"status": "Enabled"}, opts=opts)
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
        {"id": "abort-incomplete-uploads", "status": "Enabled", "filter": {},
         "abort_incomplete_multipart_upload": {"days_after_initiation": 1}},
        {"id": "expire-old-versions", "status": "Enabled", "filter": {},
         "noncurrent_version_expiration": {"noncurrent_days": 30}},
    ]
    rules += [{"id": f"tier-{p.strip('/')}", "status": "Enabled", "filter": {"prefix": p},
               "transitions": [{"days": 30, "storage_class": "STANDARD_IA"}]} for p in b.prefixes]
    aws.s3.BucketLifecycleConfiguration(name, bucket=bucket.id, rules=rules, opts=opts)
    # browsers upload to presigned URLs: the storefront's origin, or any origin until a domain is
    # set (the bucket stays private: every request still needs a signature)
    aws.s3.BucketCorsConfiguration(name, bucket=bucket.id, cors_rules=[{
        "allowed_methods": ["POST", "PUT", "GET"], "allowed_origins": [cfg.cors_origin or "*"],
        "allowed_headers": ["*"], "expose_headers": ["ETag"], "max_age_seconds": 3000}], opts=opts)
    aws.s3.BucketPolicy(name, bucket=bucket.id, policy=bucket.arn.apply(lambda arn: json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})),
        opts=opts)
    return bucket


def build_files(topology: Topology, cfg: ProgramConfig, suffix: pulumi.Input[str], kms_key: aws.kms.Key,
                env: Mapping[str, pulumi.Input[str]], worker: Worker, role: aws.iam.Role,
                account_id: pulumi.Input[str], opts: pulumi.ResourceOptions) -> Files:
    buckets = {b.name: _bucket(cfg, b, suffix, kms_key, opts) for b in topology.buckets}
    files = handler_files()
    code_hash = source_hash(files)
    function_name = cfg.physical_name(worker.name)
    logs = aws.cloudwatch.LogGroup(f"{cfg.prefix}-{worker.name}", name=f"/aws/lambda/{function_name}",
                                   retention_in_days=cfg.log_retention_days, opts=opts)
    runtime = aws.iam.RolePolicy(f"{cfg.prefix}-{worker.name}-runtime", role=role.id,
                                 policy=logs.arn.apply(lambda arn: json.dumps(runtime_policy(arn))), opts=opts)
    function = aws.lambda_.Function(
        f"{cfg.prefix}-{worker.name}",
        name=function_name,
        runtime=LAMBDA_RUNTIME,
        handler=f"{HANDLER_PACKAGE}.handler.handler",
        role=role.arn,
        code=pulumi.AssetArchive({name: pulumi.FileAsset(str(path)) for name, path in files.items()}),
        source_code_hash=code_hash,
        timeout=60,
        memory_size=256,
        environment={"variables": {k: v for k, v in env.items() if k not in LAMBDA_RESERVED_ENV}},
        tracing_config={"mode": "Active"},
        logging_config={"log_format": "Text", "log_group": logs.name},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[runtime])),
    )
    for b in topology.buckets:
        if b.name not in worker.buckets or not b.notify_queue:
            continue
        bucket = buckets[b.name]
        permission = aws.lambda_.Permission(
            f"{cfg.prefix}-{b.name}-invoke", action="lambda:InvokeFunction", function=function.name,
            principal="s3.amazonaws.com", source_arn=bucket.arn, source_account=account_id, opts=opts)
        aws.s3.BucketNotification(
            f"{cfg.prefix}-{b.name}", bucket=bucket.id,
            lambda_functions=[{"lambda_function_arn": function.arn, "events": ["s3:ObjectCreated:*"],
                               "filter_prefix": b.notify_prefix}],
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[permission])))
    return Files(buckets, function, role, code_hash)
