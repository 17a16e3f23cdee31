"""CPU per DynamoDB request, per way of preparing one (no network: signing and (de)serialising).

    .venv/bin/python bench/dynamo_client.py [--calls 20000]

Compares, for a ``GetItem`` of a catalogue item and its answer: boto3's client stack
(``botocore`` serialiser, signer and parser, measured through a stubbed HTTP send), the kit's
client with botocore's ``SigV4Auth``, and the kit's client with its own signer. Figures are
process CPU time (``time.process_time``), so they hold on a busy machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import boto3
import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

from services.kit.dynamo import CONTENT_TYPE, TARGET_PREFIX, sign

ITEM = {"product_id": {"S": "p" * 32}, "name": {"S": "A product"}, "description": {"S": "x" * 200},
        "price": {"N": "19.99"}, "currency": {"S": "USD"}, "stock": {"N": "42"},
        "category": {"S": "books"}, "created_at": {"S": "2026-01-01T00:00:00Z"},
        "updated_at": {"S": "2026-01-01T00:00:00Z"}, "search": {"S": "a product\n" + "x" * 200}}
ANSWER = msgspec.json.encode({"Item": ITEM})
CREDS = Credentials("AKIDEXAMPLE", "secret")
HOST = "127.0.0.1:8000"
PAYLOAD = {"TableName": "products", "Key": {"product_id": {"S": "p" * 32}}, "ConsistentRead": True}


def kit_own_signer() -> None:
    body = msgspec.json.encode(PAYLOAD)
    sign(access_key="AKIDEXAMPLE", secret_key="secret", token=None, region="eu-west-1", host=HOST,
         target=TARGET_PREFIX + "GetItem", body=body, now=datetime.now(UTC))
    msgspec.json.decode(ANSWER)


def kit_botocore_signer() -> None:
    body = msgspec.json.encode(PAYLOAD)
    request = AWSRequest(method="POST", url=f"http://{HOST}/", data=body, headers={
        "Content-Type": CONTENT_TYPE, "X-Amz-Target": TARGET_PREFIX + "GetItem"})
    SigV4Auth(CREDS, "dynamodb", "eu-west-1").add_auth(request)
    dict(request.headers.items())
    msgspec.json.decode(ANSWER)


_SERIALISE = TypeSerializer().serialize
_DESERIALISE = TypeDeserializer().deserialize


def typed_items() -> None:
    """boto3's (de)serialisers on top of the wire format (plain values in and out)."""
    {k: _DESERIALISE(v) for k, v in ITEM.items()}
    _SERIALISE("p" * 32)


def boto3_client_stack() -> Callable[[], None]:
    client = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                   region_name="eu-west-1").client("dynamodb", endpoint_url=f"http://{HOST}")

    def reply(request: AWSRequest, **_: object) -> AWSResponse:
        class Raw:
            def stream(self) -> list[bytes]:
                return [ANSWER]

        return AWSResponse(request.url, 200, {"content-type": CONTENT_TYPE}, Raw())  # type: ignore[arg-type]

    client.meta.events.register_first("before-send.dynamodb.GetItem", reply)

    def call() -> None:
        client.get_item(**PAYLOAD)

    return call


def measure(name: str, fn: Callable[[], None], calls: int) -> float:
    for _ in range(min(calls, 500)):
        fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    per_call = (time.process_time() - start) / calls * 1e6
    print(f"{name:<38} {per_call:8.1f} us CPU per call")
    return per_call


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20_000)
    calls = parser.parse_args().calls
    measure("kit client, own SigV4", kit_own_signer, calls)
    measure("kit client, botocore SigV4Auth", kit_botocore_signer, calls)
    measure("boto3 TypeDeserializer on an item", typed_items, calls)
    measure("boto3 client (no network)", boto3_client_stack(), max(calls // 10, 100))


if __name__ == "__main__":
    main()
