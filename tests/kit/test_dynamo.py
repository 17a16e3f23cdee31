"""The kit's DynamoDB client: it signs exactly as botocore does, and a store that cannot answer
now is the kit's ``Unavailable`` (503), never a 500 (against scripted endpoints)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import EndpointConnectionError

from services.kit import aws
from services.kit.dynamo import (
    ConditionalCheckFailed,
    DynamoClient,
    DynamoError,
    TransactionCanceled,
    endpoint_for,
    sign,
)
from services.kit.errors import Unavailable


@pytest.mark.parametrize("token", [None, "session-token"])
def test_signature_matches_botocore(token: str | None) -> None:
    body = b'{"TableName": "products", "Key": {"product_id": {"S": "p1"}}}'
    request = AWSRequest(method="POST", url="https://dynamodb.eu-west-1.amazonaws.com/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"})
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret", token), "dynamodb", "eu-west-1").add_auth(request)
    signed_at = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    ours = sign(access_key="AKIDEXAMPLE", secret_key="secret", token=token, region="eu-west-1",
                host="dynamodb.eu-west-1.amazonaws.com", target="DynamoDB_20120810.GetItem", body=body,
                now=signed_at)
    assert ours["authorization"] == request.headers["Authorization"]
    if token:
        assert ours["x-amz-security-token"] == request.headers["X-Amz-Security-Token"]


def test_endpoint_follows_the_sdk_variables() -> None:
    assert endpoint_for("us-east-1", {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000/"}) == "http://127.0.0.1:8000"
    assert endpoint_for("us-east-1", {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}) == "http://127.0.0.1:4566"
    assert endpoint_for("eu-west-1", {}) == "https://dynamodb.eu-west-1.amazonaws.com"


@asynccontextmanager
async def _store(status: int, body: bytes) -> AsyncIterator[tuple[str, list[int]]]:
    """A DynamoDB endpoint that answers every request with ``status`` and ``body``; counts them."""
    seen: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                await reader.readexactly(length)
                seen.append(1)
                writer.write(b"HTTP/1.1 %d X\r\ncontent-type: application/x-amz-json-1.0\r\n"
                             b"content-length: %d\r\n\r\n%s" % (status, len(body), body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()


def _error(code: str) -> bytes:
    return b'{"__type": "com.amazonaws.dynamodb.v20120810#%s", "message": "m"}' % code.encode()


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")


@pytest.mark.parametrize(("status", "body", "calls"), [
    (400, _error("ThrottlingException"), 3),
    (400, _error("ProvisionedThroughputExceededException"), 3),
    (500, _error("InternalServerError"), 3),
    (503, b"<html>busy</html>", 3),
    (400, _error("ResourceNotFoundException"), 1),
])
async def test_a_store_that_cannot_answer_now_is_unavailable(status: int, body: bytes, calls: int) -> None:
    async with _store(status, body) as (endpoint, seen):
        client = DynamoClient("us-east-1", endpoint)
        with pytest.raises(Unavailable) as raised:
            await client.call("GetItem", {"TableName": "t", "Key": {"k": {"S": "1"}}})
        await client.close()
    assert len(seen) == calls and raised.value.status == 503


async def test_refused_requests_and_failed_conditions_are_not_unavailable() -> None:
    async with _store(400, _error("ValidationException")) as (endpoint, seen):
        client = DynamoClient("us-east-1", endpoint)
        with pytest.raises(DynamoError) as raised:
            await client.call("GetItem", {"TableName": "t"})
        assert raised.value.code == "ValidationException" and len(seen) == 1
        await client.close()
    async with _store(400, _error("ConditionalCheckFailedException")) as (endpoint, _):
        client = DynamoClient("us-east-1", endpoint)
        with pytest.raises(ConditionalCheckFailed):
            await client.call("PutItem", {"TableName": "t", "Item": {}})
        await client.close()


async def test_a_cancelled_transaction_says_why_for_each_action() -> None:
    body = (b'{"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "Message": "m",'
            b' "CancellationReasons": [{"Code": "ConditionalCheckFailed", "Item": {"k": {"S": "1"}}},'
            b' {"Code": "None"}]}')
    async with _store(400, body) as (endpoint, seen):
        client = DynamoClient("us-east-1", endpoint)
        with pytest.raises(TransactionCanceled) as raised:
            await client.call("TransactWriteItems", {"TransactItems": []})
        await client.close()
    assert len(seen) == 1  # not retried here: the caller decides from the reasons
    assert raised.value.reasons == [{"Code": "ConditionalCheckFailed", "Item": {"k": {"S": "1"}}}, {"Code": "None"}]


async def test_no_connection_is_unavailable() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    client = DynamoClient("us-east-1", f"http://127.0.0.1:{port}")
    with pytest.raises(Unavailable):
        await client.call("GetItem", {"TableName": "t"})
    await client.close()


def test_aws_sdk_calls_that_cannot_connect_are_unavailable() -> None:
    s3 = aws.client("s3", "us-east-1", read_timeout_s=1)
    s3.meta.events.register("before-send", _refuse)
    with pytest.raises(Unavailable):
        asyncio.run(aws.call(s3.list_buckets))


def _refuse(**_: object) -> None:
    raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
