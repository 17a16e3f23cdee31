"""Server CPU per request of the local DynamoDB, for the kinds of request the platform makes.

    .venv/bin/python bench/dynamodb_requests.py [--requests 2000] [--in-flight 16] [--json]
        [--endpoint URL --pid PID]

Against the local stack's ``dynamodb`` component (``ECOMCTL_STATE_DIR``/``ECOMCTL_PORT_OFFSET``),
or any DynamoDB endpoint and the pid of the process serving it (``--endpoint``/``--pid``: how
another emulator is compared). It creates a table of its own (deleted at the end), puts 100
catalogue-like items, then sends each kind of request ``--requests`` times, ``--in-flight`` at once,
with the services' own client (``services.kit.dynamo``), after 200 of the kind to warm up:

- the reservation: ``UpdateItem`` ``SET stock = stock - :q, hold = :m`` if ``stock >= :q``, new image
  returned (``services/orders/stock.py``);
- ``PutItem`` of a 200-byte item; ``GetItem`` of a catalogue item;
- ``TransactWriteItems`` of 25 conditional puts (the notifications worker's batches);
- ``Scan`` of the 100 items (the revoked-token refresh reads a small table this way).

It reports requests/s and the serving process's CPU (its process tree, from ``/proc``) per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from ecomctl.local.platform import LocalPlatform
from ecomctl.scaletest.cpu import CpuMeter
from services.kit.dynamo import DynamoClient

Request = tuple[str, dict[str, Any]]


def kinds(table: str) -> dict[str, Callable[[int], Request]]:
    def reserve(n: int) -> Request:
        return "UpdateItem", {
            "TableName": table, "Key": {"id": {"S": f"p{n % 100}"}},
            "UpdateExpression": "SET stock = stock - :q, #h = :m", "ConditionExpression": "stock >= :q",
            "ExpressionAttributeNames": {"#h": "hold_bench"},
            "ExpressionAttributeValues": {":q": {"N": "1"}, ":m": {"M": {"q": {"N": "1"}, "at": {"N": "1.5"}}}},
            "ReturnValues": "ALL_NEW"}

    def put(_n: int) -> Request:
        return "PutItem", {"TableName": table, "Item": {"id": {"S": uuid.uuid4().hex}, "body": {"S": "y" * 200}}}

    def get(n: int) -> Request:
        return "GetItem", {"TableName": table, "Key": {"id": {"S": f"p{n % 100}"}}}

    def transact(_n: int) -> Request:
        return "TransactWriteItems", {"TransactItems": [
            {"Put": {"TableName": table, "Item": {"id": {"S": uuid.uuid4().hex}, "body": {"S": "z" * 200}},
                     "ConditionExpression": "attribute_not_exists(id)"}} for _ in range(25)]}

    def scan(_n: int) -> Request:
        return "Scan", {"TableName": table, "Limit": 100}

    return {"UpdateItem reservation": reserve, "PutItem": put, "GetItem": get,
            "TransactWriteItems of 25": transact, "Scan of 100 items": scan}


async def measure(endpoint: str, pid: int, requests: int, in_flight: int) -> dict[str, dict[str, float]]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    client = DynamoClient("us-east-1", endpoint)
    table = f"bench-{uuid.uuid4().hex[:8]}"
    await client.call("CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})
    results: dict[str, dict[str, float]] = {}
    try:
        for n in range(100):
            await client.call("PutItem", {"TableName": table, "Item": {
                "id": {"S": f"p{n}"}, "stock": {"N": "1000000000"}, "name": {"S": "x" * 50}, "price": {"N": "9.99"}}})
        gate = asyncio.Semaphore(in_flight)

        async def one(request: Request) -> None:
            async with gate:
                await client.call(*request)

        meter = CpuMeter({"server": pid})
        for name, make in kinds(table).items():
            await asyncio.gather(*(one(make(n)) for n in range(200)))
            meter.start()
            started = time.perf_counter()
            await asyncio.gather(*(one(make(n)) for n in range(requests)))
            wall = time.perf_counter() - started
            used = meter.read()["server"]
            results[name] = {"per_s": round(requests / wall), "cpu_ms": round(1000 * used / requests, 3)}
    finally:
        await client.call("DeleteTable", {"TableName": table})
        await client.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--endpoint", help="a DynamoDB endpoint other than the local stack's")
    parser.add_argument("--pid", type=int, help="the process serving --endpoint")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if (args.endpoint is None) != (args.pid is None):
        parser.error("--endpoint and --pid go together")
    if args.endpoint is None:
        platform = LocalPlatform()
        found = {c.name: c.pid for c in platform.status().components}
        if not found.get("dynamodb"):
            parser.error("the local stack's dynamodb is not running (ecomctl up)")
        args.endpoint, args.pid = platform.context.dynamodb_url, found["dynamodb"]
    results = asyncio.run(measure(args.endpoint, args.pid, args.requests, args.in_flight))
    if args.json:
        print(json.dumps({"endpoint": args.endpoint, "requests": args.requests, "in_flight": args.in_flight,
                          "kinds": results}))
    else:
        for name, figures in results.items():
            print(f"{name:26} {figures['per_s']:7.0f} req/s   server CPU {figures['cpu_ms']:.3f} ms/request")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
