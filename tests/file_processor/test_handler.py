"""The Lambda handler against a real S3 API (moto server): results, rejections, odd keys."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote_plus

from blueprint.topology import TOPOLOGY
from services.file_processor import handler as lambda_handler
from services.file_processor.handler import TextStats, handler
from tests.file_processor.conftest import Aws


def s3_event(bucket: str, raw_key: str) -> dict[str, Any]:
    """An S3 ObjectCreated event as AWS sends it (the key URL-encoded)."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Post",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(raw_key), "size": 1}},
    }]}


def result_doc(aws: Aws, bucket: str, key: str) -> dict[str, Any]:
    body = aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    doc: dict[str, Any] = json.loads(body)
    return doc


def test_limit_matches_the_topology() -> None:
    assert TOPOLOGY.bucket("data").max_upload_bytes == lambda_handler.DEFAULT_MAX_BYTES


def test_text_upload_with_encoded_key_is_processed(aws: Aws, bucket: str) -> None:
    key = "uploads/u-1/My report (v2) é+ü.txt"
    content = b"hello world\nsecond  line here\n\nlast line no newline"
    aws.s3.put_object(Bucket=bucket, Key=key, Body=content)

    out = handler(s3_event(bucket, key), None)

    expected_key = "processed/u-1/My report (v2) é+ü.txt.json"
    assert out == {"results": [{"source_key": key, "status": "ok", "output_key": expected_key}]}
    doc = result_doc(aws, bucket, expected_key)
    assert doc["status"] == "ok"
    assert "reason" not in doc
    assert (doc["bytes"], doc["lines"], doc["words"]) == (len(content), 4, 9)
    assert doc["sha256"] == hashlib.sha256(content).hexdigest()
    assert doc["processed_at"].endswith("Z")


def test_non_utf8_is_rejected_with_a_reason(aws: Aws, bucket: str) -> None:
    key = "uploads/u-1/latin1.csv"
    content = "name;city\nJosé;Zürich\n".encode("latin-1")
    aws.s3.put_object(Bucket=bucket, Key=key, Body=content)

    out = handler(s3_event(bucket, key), None)

    assert out["results"][0]["status"] == "rejected"
    doc = result_doc(aws, bucket, "processed/u-1/latin1.csv.json")
    assert doc["status"] == "rejected"
    assert doc["reason"].startswith("not valid UTF-8")
    assert "offset 13" in doc["reason"]  # the é of José
    assert (doc["bytes"], doc["lines"], doc["words"]) == (len(content), 0, 0)
    assert doc["sha256"] == hashlib.sha256(content).hexdigest()


def test_oversized_is_rejected_without_reading(aws: Aws, bucket: str) -> None:
    key = "uploads/u-2/big.txt"
    limit = TOPOLOGY.bucket("data").max_upload_bytes
    aws.s3.put_object(Bucket=bucket, Key=key, Body=b"a" * (limit + 1))

    out = handler(s3_event(bucket, key), None)

    assert out["results"][0]["status"] == "rejected"
    doc = result_doc(aws, bucket, "processed/u-2/big.txt.json")
    assert doc["reason"] == f"larger than the {limit}-byte limit ({limit + 1} bytes)"
    assert doc["bytes"] == limit + 1
    assert doc["sha256"] == ""


def test_exactly_the_limit_is_accepted(aws: Aws, bucket: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    key = "uploads/u-2/edge.txt"
    aws.s3.put_object(Bucket=bucket, Key=key, Body=b"word " * 200)
    assert handler(s3_event(bucket, key), None)["results"][0]["status"] == "ok"
    aws.s3.put_object(Bucket=bucket, Key=key, Body=b"word " * 200 + b"x")
    assert handler(s3_event(bucket, key), None)["results"][0]["status"] == "rejected"


def test_missing_object_and_foreign_prefix_are_skipped(aws: Aws, bucket: str) -> None:
    out = handler({"Records": [
        *s3_event(bucket, "uploads/u-3/gone.txt")["Records"],
        *s3_event(bucket, "elsewhere/x.txt")["Records"],
        {"not": "an s3 record"},
    ]}, None)
    assert [r["status"] for r in out["results"]] == ["skipped", "skipped"]
    listed = aws.s3.list_objects_v2(Bucket=bucket, Prefix="processed/")
    assert listed.get("KeyCount", 0) == 0


def test_empty_file_is_ok(aws: Aws, bucket: str) -> None:
    aws.s3.put_object(Bucket=bucket, Key="uploads/u-4/empty.txt", Body=b"")
    handler(s3_event(bucket, "uploads/u-4/empty.txt"), None)
    doc = result_doc(aws, bucket, "processed/u-4/empty.txt.json")
    assert (doc["status"], doc["bytes"], doc["lines"], doc["words"]) == ("ok", 0, 0, 0)


def test_counts_are_independent_of_chunk_boundaries() -> None:
    text = "alpha beta\ngamma  délta\n\nepsilon".encode()
    whole = TextStats()
    whole.feed(text)
    whole.finish()
    for size in (1, 2, 3, 7):
        split = TextStats()
        for i in range(0, len(text), size):
            split.feed(text[i:i + size])
        split.finish()
        assert (split.size, split.lines, split.words, split.error) == (len(text), 4, 5, None)
        assert split.sha256 == whole.sha256
