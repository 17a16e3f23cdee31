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

from ecomctl.cloud.stages import StageLike, upstream_key

if TYPE_CHECKING:
    from pulumi.runtime import MockCallArgs, MockResourceArgs

ACCOUNT_ID = "123456789012"


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
    for stage in stages:
        stage_resources, stage_outputs = contextvars.Context().run(
            _run_stage, stage, config, dict(outputs), stack
        )
        resources.extend(stage_resources)
        outputs.update({upstream_key(stage.name, k): v for k, v in stage_outputs.items()})
    return OfflineRun(tuple(resources), outputs)


def _run_stage(
    stage: StageLike, config: Any, upstream: Mapping[str, Any], stack: str
) -> tuple[list[Resource], dict[str, Any]]:
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

    def body() -> None:
        stage.program(config, upstream)
        root = get_root_resource()
        raw = dict(getattr(root, "outputs", {}) or {})
        resolved: Any = _sync_await(pulumi.Output.from_input(raw).future())
        exported.update(resolved or {})

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        asyncio.get_event_loop().close()
    return mocks.resources, exported


def _computed(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Outputs a provider would compute, so programs can chain on them under mocks."""
    service = type_.split(":")[1].split("/")[0] if type_.count(":") >= 2 else "x"
    out: dict[str, Any] = {
        "arn": f"arn:aws:{service}:us-east-1:{ACCOUNT_ID}:{name}",
        "name": inputs.get("name", name),
        "endpoint": f"{name}.example.internal",
        "address": f"{name}.example.internal",
        "selfLink": f"https://www.googleapis.com/compute/v1/projects/p/{name}",
    }
    if type_ == "aws:eks/cluster:Cluster":
        out |= {
            "endpoint": f"https://{name}.eks.example.internal",
            "certificateAuthority": {"data": "Q0EtREFUQQ=="},
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.example.internal/id/{name}"}]}],
            "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{name}"},
        }
    elif type_ == "aws:msk/cluster:Cluster":
        out |= {
            "bootstrapBrokersSaslScram": "b-1.msk.example.internal:9096,b-2.msk.example.internal:9096",
            "bootstrapBrokersSaslIam": "b-1.msk.example.internal:9098,b-2.msk.example.internal:9098",
            "bootstrapBrokersTls": "b-1.msk.example.internal:9094,b-2.msk.example.internal:9094",
        }
    elif type_ == "aws:sqs/queue:Queue":
        out["url"] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT_ID}/{name}"
    elif type_ == "aws:s3/bucket:Bucket" or type_.startswith("aws:s3/bucketV2"):
        out |= {"bucket": inputs.get("bucket", name), "bucketRegionalDomainName": f"{name}.s3.amazonaws.com"}
    elif type_.startswith("random:"):
        out |= {"result": f"mock-{name}", "hex": "00ff", "id": f"{name}-id"}
    elif type_ == "aws:ec2/vpnConnection:VpnConnection":
        out |= {"tunnel1Address": "203.0.113.1", "tunnel2Address": "203.0.113.2",
                "tunnel1PresharedKey": "mock", "tunnel2PresharedKey": "mock"}
    elif type_ == "gcp:compute/haVpnGateway:HaVpnGateway":
        out["vpnInterfaces"] = [{"id": 0, "ipAddress": "198.51.100.1"}, {"id": 1, "ipAddress": "198.51.100.2"}]
    elif type_.startswith("kubernetes:"):
        meta = dict(inputs.get("metadata") or {})
        meta.setdefault("name", name)
        out |= {"metadata": meta, "status": {"loadBalancer": {"ingress": [{"hostname": f"{name}.elb.example"}]}}}
    return {**out, **inputs}


class _RecordingMocks:
    """``pulumi.runtime.Mocks``: records every resource, echoes inputs plus computed outputs."""

    def __init__(self, stage: str, stack: str) -> None:
        self.stage = stage
        self.stack = stack
        self.resources: list[Resource] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(Resource(self.stage, args.typ, args.name, inputs))
        self.resources.extend(_expand_component(self.stage, args.typ, inputs))
        return f"{args.name}-id", _computed(args.typ, args.name, inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        handler = _INVOKES.get(args.token)
        return (handler(dict(args.args)) if handler else {}), None

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
}
