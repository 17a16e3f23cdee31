"""The services' one DynamoDB access path: the JSON protocol over pooled HTTP/1.1, SigV4, on the loop.

Every service reads and writes its tables through ``DynamoClient.call(operation, payload)``
with DynamoDB's own request shapes; items and values are typed with boto3's serialisers
(``to_item``/``from_item``: plain ``str``/``int``/``Decimal`` values in and out).
boto3 spends far more CPU per call than this client, plus a thread hop (``bench/dynamo_client.py``
measures both). The transport is the kit's keep-alive client (``services.kit.upstream``): aiohttp
spent more CPU per call than the signing and the JSON together (measured against a local
endpoint, an UpdateItem with its answer: 150 -> 70 us of the caller's CPU). Credentials come
from botocore's provider chain (env, profile, web identity in EKS), so local and cloud share one
code path; the endpoint is the SDK-standard ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``
when set.

Errors: ``ConditionalCheckFailed`` for a failed condition (``TransactionCanceled``, with a reason
per action, for a transaction); the kit's ``Unavailable`` (503) when
the store cannot answer now (no connection, a timeout, throttling, a 5xx, a missing table or
credentials: after the retries); ``DynamoError`` for a request DynamoDB refused (our bug: 500).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import msgspec
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from services.kit.errors import Unavailable
from services.kit.upstream import Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
RETRYABLE = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError",
                       "ServiceUnavailable", "RequestLimitExceeded", "LimitExceededException"})
NOT_NOW = RETRYABLE | {"ResourceNotFoundException", "MissingCredentials", "UnrecognizedClientException",
                       "ExpiredTokenException"}
"""Codes that mean "the store cannot answer now" (503), as do every 5xx and a transport failure."""


_SERIALISE = TypeSerializer().serialize
_DESERIALISE = TypeDeserializer().deserialize


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB's typed attributes of plain values (an item, a key, expression values)."""
    return {name: _SERIALISE(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """The plain values of typed attributes (numbers come back as ``Decimal``)."""
    return {name: _DESERIALISE(value) for name, value in item.items()}


class DynamoError(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.status = status


class ConditionalCheckFailed(DynamoError):
    pass


class TransactionCanceled(DynamoError):
    """A ``TransactWriteItems`` that wrote nothing; ``reasons[i]`` is what stopped (or not) action ``i``:
    ``{"Code": "ConditionalCheckFailed", "Item": {...}}`` (the item, with
    ``ReturnValuesOnConditionCheckFailure: ALL_OLD``), ``{"Code": "None"}``, ``TransactionConflict``..."""

    def __init__(self, code: str, message: str, status: int, reasons: list[dict[str, Any]]) -> None:
        super().__init__(code, message, status)
        self.reasons = reasons


def endpoint_for(region: str, environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return (env.get("AWS_ENDPOINT_URL_DYNAMODB") or env.get("AWS_ENDPOINT_URL")
            or f"https://dynamodb.{region}.amazonaws.com").rstrip("/")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(*, access_key: str, secret_key: str, token: str | None, region: str, host: str, target: str,
         body: bytes, now: datetime) -> dict[str, str]:
    """The headers of a SigV4-signed DynamoDB request (POST /, JSON protocol).

    The same signature as botocore's ``SigV4Auth`` (a test compares them) for a sixth of its CPU:
    measured with ``bench/dynamo_client.py``, a signed GetItem costs 23 us here against 133 us
    with ``SigV4Auth`` (boto3's whole client: 835 us, before its thread hop).
    """
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {"content-type": CONTENT_TYPE, "host": host, "x-amz-date": amz_date, "x-amz-target": target}
    if token:
        headers["x-amz-security-token"] = token
    names = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "", *(f"{n}:{headers[n]}" for n in names), "", ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{region}/{SERVICE}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), SERVICE), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return headers


class DynamoClient:
    """``await client.call("UpdateItem", {...})`` -> the decoded answer; errors raise ``DynamoError``."""

    def __init__(self, region: str, endpoint: str | None = None, timeout_s: float = 5.0, pool: int = 128) -> None:
        self.region = region
        self.endpoint = endpoint or endpoint_for(region)
        parts = urlsplit(self.endpoint)
        self.host = parts.netloc
        self.path = parts.path.rstrip("/") + "/"
        self.timeout_s = timeout_s
        self.pool = pool
        self._credentials = botocore.session.get_session().get_credentials()
        self._http: Upstream | None = None

    def _client(self) -> Upstream:
        if self._http is None:
            self._http = Upstream(self.endpoint, connect_timeout_s=2, read_timeout_s=self.timeout_s,
                                  max_idle=self.pool, idle_s=30, max_connections=self.pool)
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    @asynccontextmanager
    async def lifespan(self, _: object) -> AsyncIterator[None]:
        """An app lifespan that closes the client's connections at shutdown."""
        try:
            yield
        finally:
            await self.close()

    async def call(self, operation: str, payload: dict[str, Any], attempts: int = 3) -> dict[str, Any]:
        """The decoded answer of ``operation``; transient failures are retried ``attempts`` times."""
        body = msgspec.json.encode(payload)
        failure: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(0.02 * 2**attempt)
            try:
                return await self._once(operation, body)
            except DynamoError as exc:
                if exc.code not in NOT_NOW and exc.status < 500:
                    raise
                failure = exc
                if exc.code not in RETRYABLE and exc.status < 500:
                    break  # a missing table or credentials: a retry would not help
            except (UpstreamUnavailable, UpstreamTimeout, UpstreamBroken, OSError) as exc:
                failure = exc
        reason = failure.code if isinstance(failure, DynamoError) else type(failure).__name__
        raise Unavailable(f"the database is unavailable ({reason})") from failure

    async def _once(self, operation: str, body: bytes) -> dict[str, Any]:
        if self._credentials is None:
            raise DynamoError("MissingCredentials", "no AWS credentials found", 0)
        creds = self._credentials.get_frozen_credentials()
        headers = sign(access_key=creds.access_key, secret_key=creds.secret_key, token=creds.token,
                       region=self.region, host=self.host, target=TARGET_PREFIX + operation, body=body,
                       now=datetime.now(UTC))
        answer = await self._client().request(
            "POST", self.path, [(name.encode(), value.encode()) for name, value in headers.items() if name != "host"],
            body)
        raw, status = answer.body, answer.status
        try:
            decoded: dict[str, Any] = msgspec.json.decode(raw) if raw else {}
        except msgspec.DecodeError:
            raise DynamoError(f"HTTP{status}", "the answer is not JSON", status) from None
        if status == 200:
            return decoded
        code = str(decoded.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP{status}"
        message = str(decoded.get("message") or decoded.get("Message") or "")
        if code == "ConditionalCheckFailedException":
            raise ConditionalCheckFailed(code, message, status)
        if code == "TransactionCanceledException":
            raise TransactionCanceled(code, message, status, list(decoded.get("CancellationReasons") or []))
        raise DynamoError(code, message, status)
