"""``ecomctl preview --offline``: run every stage's program under Pulumi's mock runtime.

No Pulumi CLI, plugin or cloud account is involved: ``pulumi.runtime.set_mocks`` stands in for
the engine, every resource registration is recorded (type token, name, inputs as the provider
would receive them: camelCase keys), and plausible computed outputs (ids, ARNs, endpoints) are
filled in so later stages see their upstream values, exactly as ``up`` passes them forward.
Each stage runs in a fresh ``contextvars`` context, so the runtime's ambient state of one stage
never leaks into the next.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ecomctl.cloud.stages import StageLike, upstream_key, with_secrets
from ecomctl.errors import CloudError

if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs

ACCOUNT_ID = "123456789012"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value on the wire


@dataclass(frozen=True)
class Resource:
    """One resource a program registers: what ``up`` would create."""

    stage: str
    type: str
    name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The last part of the type token (``Deployment``, ``Instance``)."""
        return self.type.rsplit(":", 1)[-1]

    def get(self, path: str, default: Any = None) -> Any:
        """A nested input by dotted path (``vpcConfig.endpointPublicAccess``; list items by index)."""
        return lookup(self.inputs, path, default)


@dataclass(frozen=True)
class OfflineRun:
    resources: tuple[Resource, ...]
    outputs: Mapping[str, Any]  # "<stage>.<output>" -> plain value
    secret: frozenset[str] = frozenset()  # the outputs that are secrets


def lookup(data: Any, path: str, default: Any = None) -> Any:
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current


def run_offline(stages: Sequence[StageLike], config: Any, stack: str) -> OfflineRun:
    """Every stage in ``up`` order under mocks; each sees the outputs of the stages before it."""
    resources: list[Resource] = []
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    for stage in stages:
        try:
            stage_resources, stage_outputs, stage_secret = contextvars.Context().run(
                _run_stage, stage, config, dict(outputs), frozenset(secret), stack
            )
        except Exception as exc:  # a program bug: say which stage, keep the cause
            cause = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise CloudError(
                f"the {stage.name} program failed under the mock runtime: {cause}",
                hint="run the program's tests (tests/programs) for the full traceback",
                details=_trace_tail(exc),
            ) from None
        resources.extend(stage_resources)
        outputs.update({upstream_key(stage.name, k): v for k, v in stage_outputs.items()})
        secret.update(upstream_key(stage.name, k) for k in stage_secret)
    return OfflineRun(tuple(resources), outputs, frozenset(secret))


def _trace_tail(exc: BaseException) -> str:
    import traceback

    lines = traceback.format_exception(exc)
    return "".join(lines[-4:]).rstrip()


def _run_stage(
    stage: StageLike, config: Any, upstream: Mapping[str, Any], secret: frozenset[str], stack: str
) -> tuple[list[Resource], dict[str, Any], set[str]]:
    import asyncio

    import pulumi
    from pulumi.runtime import set_mocks
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    asyncio.set_event_loop(asyncio.new_event_loop())
    mocks = _RecordingMocks(stage.name, stack)
    set_mocks(cast(Any, mocks), project=f"ecomctl-{stage.name}", stack=stack, preview=False)
    exported: dict[str, Any] = {}
    exported_secret: set[str] = set()

    def body() -> None:
        stage.program(config, with_secrets(upstream, secret))
        root = get_root_resource()
        for key, value in dict(getattr(root, "outputs", {}) or {}).items():
            output = pulumi.Output.from_input(value)
            exported[key] = _sync_await(output.future())
            if _sync_await(output.is_secret()):
                exported_secret.add(key)

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        asyncio.get_event_loop().close()
    return mocks.resources, exported, exported_secret


def _computed(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs a provider would compute, so programs can chain on them under mocks."""
    service = type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else "x"
    out: dict[str, Any] = {"arn": f"arn:aws:{service}:us-east-1:{ACCOUNT_ID}:{name}"}
    if "name" not in inputs:
        out["name"] = name
    if type_ == "aws:eks/cluster:Cluster":
        out |= {
            "endpoint": f"https://{name}.gr7.us-east-1.eks.amazonaws.com",
            "certificateAuthority": {"data": "Q0EtREFUQQ=="},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.us-east-1.amazonaws.com/id/{name.upper()}"}]}],
            "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": "sg-eks-cluster"},
        }
    elif type_ == "aws:rds/instance:Instance":
        out |= {"address": f"{name}.abc.us-east-1.rds.amazonaws.com", "port": 3306,
                "endpoint": f"{name}.abc.us-east-1.rds.amazonaws.com:3306"}
    elif type_ == "aws:msk/cluster:Cluster":
        brokers = "b-1.kafka.abc.c2.kafka.us-east-1.amazonaws.com,b-2.kafka.abc.c2.kafka.us-east-1.amazonaws.com"
        out |= {key: ",".join(f"{b}:{port}" for b in brokers.split(",")) for key, port in (
            ("bootstrapBrokersSaslScram", 9096), ("bootstrapBrokersSaslIam", 9098), ("bootstrapBrokersTls", 9094))}
    elif type_ == "aws:ec2/vpnConnection:VpnConnection":
        n = 1 if name.endswith("-0") else 3
        out |= {f"tunnel{t}{k}": v for t in (1, 2) for k, v in {
            "Address": f"52.0.{n}.{t}", "PresharedKey": f"psk-{name}-{t}",
            "CgwInsideAddress": f"169.254.{n * 10 + t}.2", "VgwInsideAddress": f"169.254.{n * 10 + t}.1"}.items()}
    elif type_ == "gcp:compute/haVpnGateway:HaVpnGateway":
        out["vpnInterfaces"] = [{"id": 0, "ipAddress": "35.242.0.1"}, {"id": 1, "ipAddress": "35.220.0.1"}]
    elif type_ == "gcp:compute/address:Address":
        out["address"] = "34.86.1.2"
    elif type_ == "aws:ecr/repository:Repository":
        out |= {"repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/{inputs.get('name', name)}",
                "registryId": ACCOUNT_ID}
    elif type_ == "docker-build:index:Image":
        out["digest"] = "sha256:" + "ab" * 32
    elif type_.startswith("random:"):
        out |= {"result": f"offline-{abs(hash(name)) % 10**12:012d}", "hex": "00ff", "b64Std": "AP8=",
                "b64Url": "AP8", "dec": "255"}
    elif type_ == "aws:sqs/queue:Queue":
        out["url"] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT_ID}/{inputs.get('name', name)}"
    elif type_ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        out["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{str(inputs.get('url', '')).removeprefix('https://')}"
    elif type_ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
        out |= {"arn": f"arn:aws:s3:::{inputs.get('bucket', name)}", "bucket": inputs.get("bucket", name),
                "bucketRegionalDomainName": f"{inputs.get('bucket', name)}.s3.us-east-1.amazonaws.com"}
    elif type_ == "gcp:serviceaccount/account:Account":
        out["email"] = f"{inputs.get('accountId', name)}@project.iam.gserviceaccount.com"
    elif type_ == "aws:kms/key:Key":
        out["keyId"] = f"key-{name}"
    elif type_ == "aws:lambda/function:Function":
        out["invokeArn"] = f"arn:aws:apigateway:us-east-1:lambda:path/functions/{name}/invocations"
    elif type_.startswith("kubernetes:"):
        meta = dict(inputs.get("metadata") or {})
        meta.setdefault("name", name)
        out["metadata"] = meta
        if type_ == "kubernetes:core/v1:Service" and lookup(inputs, "spec.type") == "LoadBalancer":
            out["status"] = {"loadBalancer": {"ingress": [{"hostname": f"{name}.elb.us-east-1.amazonaws.com"}]}}
    return {**inputs, **out} if type_.startswith("kubernetes:") else {**out, **inputs}


def plain(value: Any) -> Any:
    """Mock inputs as a provider sees them: secrets unwrapped, integral floats as ints."""
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class _RecordingMocks:
    """``pulumi.runtime.Mocks``: records every resource, echoes inputs plus computed outputs."""

    def __init__(self, stage: str, stack: str) -> None:
        self.stage = stage
        self.stack = stack
        self.resources: list[Resource] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = plain(dict(args.inputs))
        self.resources.append(Resource(self.stage, args.typ, args.name, inputs))
        self.resources.extend(_expand_component(self.stage, args.typ, inputs))
        return f"{args.name}-id", _computed(args.typ, args.name, dict(args.inputs))

    def call(self, args: MockCallArgs) -> dict[str, Any]:
        handler = _INVOKES.get(args.token)
        return handler(dict(args.args)) if handler else {}

    def register_transform(self, transform: Any) -> None:  # pragma: no cover - protocol
        pass

    def register_invoke_transform(self, transform: Any) -> None:  # pragma: no cover - protocol
        pass


def _expand_component(stage: str, type_: str, inputs: Mapping[str, Any]) -> list[Resource]:
    """Kubernetes objects passed to a remote ``ConfigGroup`` are resources too (mocks hide them)."""
    if not type_.startswith("kubernetes:yaml/") or not isinstance(inputs.get("objs"), list):
        return []
    found = []
    for obj in inputs["objs"]:
        if isinstance(obj, Mapping) and "kind" in obj:
            api = str(obj.get("apiVersion", "v1"))
            group_version = api if "/" in api else f"core/{api}"
            found.append(Resource(stage, f"kubernetes:{group_version}:{obj['kind']}",
                                  str(lookup(obj, "metadata.name", "")), dict(obj)))
    return found


_INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a: {
        "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "userId": "offline"},
    "aws:index/getRegion:getRegion": lambda a: {"name": "us-east-1", "region": "us-east-1"},
    "aws:index/getPartition:getPartition": lambda a: {"partition": "aws", "dnsSuffix": "amazonaws.com"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda a: {
        "names": ["us-east-1a", "us-east-1b", "us-east-1c"], "zoneIds": ["use1-az1", "use1-az2", "use1-az4"]},
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda a: {"json": json.dumps(a)},
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda a: {
        "userName": "AWS", "password": "offline-token", "authorizationToken": "x", "id": "x",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"},
}
