"""Run a program under Pulumi's mock runtime and record every resource and export.

The mocks fill in what a provider would compute (ids, ARNs, endpoints, VPN tunnel addresses) so
programs that derive values from them run as they would for real. Inputs arrive camelCased.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

ACCOUNT = "123456789012"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value on the wire


def plain(value: Any) -> Any:
    """Mock inputs as a provider would see them: secrets unwrapped, integral floats as ints."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def secret_paths(value: Any, path: str = "") -> set[str]:
    """Dotted paths of every secret in ``value`` (``""`` when the whole value is secret)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return {path}
        return set().union(*(secret_paths(v, f"{path}.{k}".lstrip(".")) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(secret_paths(v, f"{path}[{i}]") for i, v in enumerate(value)))
    return set()


@dataclass
class Rec:
    type: str
    name: str
    inputs: dict[str, Any]  # plain (see ``plain``)
    provider: str | None
    secrets: set[str]  # input paths that arrived as secrets


@dataclass
class Run:
    resources: list[Rec]
    exports: dict[str, Any]
    secret_exports: set[str]
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def of_type(self, token: str) -> list[Rec]:
        return [r for r in self.resources if r.type == token]

    def one(self, token: str, name_part: str = "") -> Rec:
        found = [r for r in self.of_type(token) if name_part in r.name]
        assert len(found) == 1, f"expected one {token} named *{name_part}*, got {[r.name for r in found]}"
        return found[0]

    def named(self, name: str) -> Rec:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, got {len(found)}"
        return found[0]


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:us-east-1:{ACCOUNT}:{name}"
    state: dict[str, Any] = {"arn": arn}
    if typ == "aws:eks/cluster:Cluster":
        state.update(endpoint=f"https://{name}.gr7.us-east-1.eks.amazonaws.com",
                     certificateAuthority={"data": "Q0EtREFUQQ=="},
                     identities=[{"oidcs": [{"issuer": f"https://oidc.eks.us-east-1.amazonaws.com/id/{name.upper()}"}]}],
                     vpcConfig={**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": "sg-eks-cluster"})
    elif typ == "aws:rds/instance:Instance":
        state.update(address=f"{name}.abc.us-east-1.rds.amazonaws.com", port=3306)
    elif typ == "aws:msk/cluster:Cluster":
        state.update(bootstrapBrokersSaslScram="b-1.kafka.abc.c2.kafka.us-east-1.amazonaws.com:9096,"
                                               "b-2.kafka.abc.c2.kafka.us-east-1.amazonaws.com:9096")
    elif typ == "aws:ec2/vpnConnection:VpnConnection":
        n = 1 if name.endswith("-0") else 3
        state.update({f"tunnel{t}{k}": v for t in (1, 2) for k, v in {
            "Address": f"52.0.{n}.{t}", "PresharedKey": f"psk-{name}-{t}",
            "CgwInsideAddress": f"169.254.{n * 10 + t}.2", "VgwInsideAddress": f"169.254.{n * 10 + t}.1"}.items()})
    elif typ == "gcp:compute/haVpnGateway:HaVpnGateway":
        state["vpnInterfaces"] = [{"id": 0, "ipAddress": "35.242.0.1"}, {"id": 1, "ipAddress": "35.220.0.1"}]
    elif typ == "gcp:compute/address:Address":
        state.update(address="34.86.1.2", selfLink=f"https://www.googleapis.com/compute/v1/projects/p/addresses/{name}")
    elif typ == "aws:ecr/repository:Repository":
        state.update(repositoryUrl=f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/{inputs.get('name', name)}",
                     registryId=ACCOUNT)
    elif typ == "docker-build:index:Image":
        state["digest"] = "sha256:" + "ab" * 32
    elif typ in ("random:index/randomPassword:RandomPassword", "random:index/randomString:RandomString"):
        state["result"] = f"r{abs(hash(name)) % 10**12:012d}"
    elif typ == "aws:sqs/queue:Queue":
        state["url"] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{inputs.get('name', name)}"
    elif typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
        state["arn"] = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{inputs.get('url', '').removeprefix('https://')}"
    elif typ == "aws:s3/bucket:Bucket":
        state["arn"] = f"arn:aws:s3:::{inputs.get('bucket', name)}"
    elif typ == "gcp:serviceaccount/account:Account":
        state["email"] = f"{inputs.get('accountId')}@proj.iam.gserviceaccount.com"
    elif typ == "kubernetes:core/v1:Service" and inputs.get("spec", {}).get("type") == "LoadBalancer":
        state["status"] = {"loadBalancer": {"ingress": [{"hostname": f"{name}.elb.us-east-1.amazonaws.com"}]}}
    elif typ == "aws:kms/key:Key":
        state["keyId"] = "key-" + name
    if "name" not in inputs:
        state["name"] = name
    return state


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Rec] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        raw = dict(args.inputs)
        self.resources.append(Rec(args.typ, args.name, plain(raw), args.provider, secret_paths(raw)))
        return f"{args.name}_id", {**args.inputs, **_computed(args.typ, args.name, args.inputs)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> Any:  # a bare dict: "no failures"
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "userId": "ci", "id": ACCOUNT}
        if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            return {"userName": "AWS", "password": "ecr-token", "authorizationToken": "x",
                    "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", "id": "x"}
        return {}


def run(program: Callable[[], None], project: str = "ecomctl-test", stack: str = "dev") -> Run:
    """Run ``program`` under mocks; return every registered resource and the resolved exports."""
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False)
    exported: dict[str, Any] = {}
    resolved: dict[str, Any] = {}
    secret: set[str] = set()
    original = pulumi.export

    def record(name: str, value: Any) -> None:
        exported[name] = value

    async def collect() -> None:
        for key, value in exported.items():
            out = pulumi.Output.from_input(value)
            resolved[key] = await out.future()
            if await out.is_secret():
                secret.add(key)

    @pulumi.runtime.test
    def body() -> Any:
        program()
        return pulumi.Output.from_input(collect())

    pulumi.export = record  # type: ignore[assignment]
    try:
        body()
    finally:
        pulumi.export = original  # type: ignore[assignment]
    return Run(mocks.resources, resolved, secret, mocks.calls)
