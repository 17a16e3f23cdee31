"""A private moto server (the same AWS API emulator the local stack runs) for the file processor."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from services.file_processor import handler as lambda_handler


@dataclass(frozen=True)
class Aws:
    endpoint: str
    s3: Any
    sqs: Any


@pytest.fixture(name="aws", scope="module")
def fx_aws() -> Iterator[Aws]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    mp = pytest.MonkeyPatch()
    for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local",
                       "AWS_SECRET_ACCESS_KEY": "local"}.items():
        mp.setenv(key, value)
    lambda_handler._S3 = None  # the handler's cached client must pick up this endpoint
    try:
        yield Aws(endpoint, boto3.client("s3"), boto3.client("sqs"))
    finally:
        lambda_handler._S3 = None
        mp.undo()
        server.stop()


@pytest.fixture(name="bucket")
def fx_bucket(aws: Aws) -> str:
    name = f"data-{uuid.uuid4().hex[:12]}"
    aws.s3.create_bucket(Bucket=name)
    return name
