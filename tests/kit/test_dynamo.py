"""The lean DynamoDB client signs exactly as botocore does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from services.kit.dynamo import endpoint_for, sign


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
