"""What a provider would compute, for programs run under ``pulumi.runtime`` mocks.

Shared by ``ecomctl preview --offline`` (``ecomctl.cloud.offline``) and the program tests
(``tests/programs/harness.py``): inputs as a provider sees them (``plain``), the state a provider
would return for a new resource (``mock_state``: ids, ARNs, endpoints, VPN tunnel addresses filled
in so programs that derive values from them run as they would for real) and the results of the
data-source calls the programs make (``invoke``). No Pulumi import: callers bring the runtime.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

ACCOUNT_ID = "123456789012"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value on the wire


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


def lookup(data: Any, path: str, default: Any = None) -> Any:
    """A nested value by dotted path (``vpcConfig.endpointPublicAccess``; list items by index)."""
    current = data
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return default
    return current


def mock_id(name: str) -> str:
    """The id a new resource gets under mocks."""
    return f"{name}-id"


def mock_state(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A new resource's state: its inputs echoed plus what the provider would compute.

    Computed values win: where one shares a key with an input (EKS ``vpcConfig``, Kubernetes
    ``metadata``) it already merges the input one and adds what the provider fills in.
    """
    return {**inputs, **computed(type_, name, inputs)}


def computed(type_: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
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
        out |= {"address": "34.86.1.2",
                "selfLink": f"https://www.googleapis.com/compute/v1/projects/p/addresses/{name}"}
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
        out["email"] = f"{inputs.get('accountId', name)}@proj.iam.gserviceaccount.com"
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
    return out


def invoke(token: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """A data-source call's result (``{}`` for a token without one: "no failures")."""
    handler = INVOKES.get(token)
    return handler(dict(args)) if handler else {}


INVOKES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda a: {
        "accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/offline", "userId": "offline",
        "id": ACCOUNT_ID},
    "aws:index/getRegion:getRegion": lambda a: {"name": "us-east-1", "region": "us-east-1"},
    "aws:index/getPartition:getPartition": lambda a: {"partition": "aws", "dnsSuffix": "amazonaws.com"},
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda a: {
        "names": ["us-east-1a", "us-east-1b", "us-east-1c"], "zoneIds": ["use1-az1", "use1-az2", "use1-az4"]},
    "aws:iam/getPolicyDocument:getPolicyDocument": lambda a: {"json": json.dumps(a)},
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda a: {
        "userName": "AWS", "password": "offline-token", "authorizationToken": "x", "id": "x",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"},
}
