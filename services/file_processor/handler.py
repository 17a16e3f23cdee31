"""The Lambda handler: ``uploads/<path>`` -> ``processed/<path>.json`` in the bucket named by the event.

Result document: ``{"status": "ok"|"rejected", "reason"?: str, "source_key": str, "bytes": int,
"lines": int, "words": int, "sha256": str, "processed_at": str}``. An object that is not UTF-8 text
or is larger than ``MAX_UPLOAD_BYTES`` (default 10 MiB, the topology's limit for the data bucket)
is *rejected* with a reason: a clear, final result, not an error, so it is never retried. A key
outside ``uploads/`` or an object deleted before it was processed is skipped. Only a failure of S3
itself raises (the invoker retries; see ``runner`` for how retries are bounded).

Stdlib + boto3 only: this module is deployed alone as a Lambda zip.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

UPLOAD_PREFIX = "uploads/"
PROCESSED_PREFIX = "processed/"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
CHUNK = 1 << 16


@dataclass(frozen=True)
class Outcome:
    """What happened to one S3 record."""

    source_key: str
    status: str  # ok | rejected | skipped
    output_key: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source_key": self.source_key, "status": self.status}
        if self.output_key is not None:
            out["output_key"] = self.output_key
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass
class TextStats:
    """Counts over a byte stream, fed in chunks (constant memory)."""

    size: int = 0
    lines: int = 0
    words: int = 0
    error: str | None = None
    _in_word: bool = False
    _last: str = ""

    def __post_init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._sha = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def feed(self, chunk: bytes, final: bool = False) -> None:
        self._sha.update(chunk)
        offset = self.size
        self.size += len(chunk)
        if self.error is not None:
            return
        try:
            text = self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            self.error = f"not valid UTF-8 text (invalid byte at offset {offset + exc.start})"
            return
        if not text:
            return
        self.lines += text.count("\n")
        self.words += len(text.split())
        if self._in_word and not text[0].isspace():
            self.words -= 1  # a word split across two chunks
        self._in_word = not text[-1].isspace()
        self._last = text[-1]

    def finish(self) -> None:
        self.feed(b"", final=True)
        if self.size and self._last and self._last != "\n" and self.error is None:
            self.lines += 1  # a last line without a trailing newline still counts


def max_bytes() -> int:
    raw = os.environ.get("MAX_UPLOAD_BYTES", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_MAX_BYTES


def output_key(source_key: str) -> str:
    return PROCESSED_PREFIX + source_key[len(UPLOAD_PREFIX):] + ".json"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _result(status: str, stats: TextStats, source_key: str, reason: str | None,
            read: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"status": status, "source_key": source_key, "bytes": stats.size,
                           "lines": stats.lines if status == "ok" else 0,
                           "words": stats.words if status == "ok" else 0,
                           # empty when the content was not read (over the limit)
                           "sha256": stats.sha256 if read else "",
                           "processed_at": _now()}
    if reason is not None:
        doc["reason"] = reason
    return doc


def process_object(s3: Any, bucket: str, key: str, limit: int) -> Outcome:
    """Process one ``uploads/...`` object; raises only for S3 failures other than a missing object."""
    if not key.startswith(UPLOAD_PREFIX) or key.endswith("/"):
        return Outcome(key, "skipped", reason=f"not an object under {UPLOAD_PREFIX}")
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return Outcome(key, "skipped", reason="object no longer exists")
        raise
    size = int(obj.get("ContentLength", 0))
    stats = TextStats()
    reason: str | None = None
    read = True
    body = obj["Body"]
    try:
        if size > limit:
            reason = f"larger than the {limit}-byte limit ({size} bytes)"
            stats.size = size
            read = False
        else:
            seen = 0
            for chunk in iter(lambda: body.read(CHUNK), b""):
                seen += len(chunk)
                if seen > limit:  # longer than its Content-Length said; stop reading
                    reason = f"larger than the {limit}-byte limit"
                    break
                stats.feed(chunk)
            stats.finish()
            reason = reason or stats.error
    finally:
        body.close()
    status = "rejected" if reason else "ok"
    target = output_key(key)
    s3.put_object(Bucket=bucket, Key=target, ContentType="application/json",
                  Body=json.dumps(_result(status, stats, key, reason, read)).encode())
    return Outcome(key, status, output_key=target, reason=reason)


def records(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, decoded key) for every S3 object-created record of an S3 event."""
    found: list[tuple[str, str]] = []
    for record in event.get("Records") or []:
        s3 = record.get("s3") if isinstance(record, dict) else None
        if not isinstance(s3, dict):
            continue
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            found.append((bucket, unquote_plus(key)))  # S3 event keys arrive URL-encoded
    return found


_S3: Any = None


def _client() -> Any:
    global _S3
    if _S3 is None:  # reused across warm Lambda invocations
        _S3 = boto3.client("s3")
    return _S3


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point for S3 ``ObjectCreated`` events."""
    s3 = _client()
    limit = max_bytes()
    outcomes = [process_object(s3, bucket, key, limit) for bucket, key in records(event)]
    return {"results": [o.as_dict() for o in outcomes]}
