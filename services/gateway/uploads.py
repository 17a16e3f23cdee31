"""Presigned S3 uploads limited to the caller's ``uploads/<user_id>/`` prefix, and their status."""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import Parameter

from services.kit import aws
from services.kit.app import SECURITY
from services.kit.auth import Caller, Callers
from services.kit.errors import Invalid, NotFound

FileName = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
FileType = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
UPLOADS = "uploads/"
PROCESSED = "processed/"


class PresignRequest(msgspec.Struct):
    file_name: FileName
    file_type: FileType


class PresignedUpload(msgspec.Struct):
    url: str
    fields: dict[str, str]
    key: str
    expires_in: int
    max_bytes: int


class FileStatus(msgspec.Struct):
    key: str
    exists: bool
    processed: bool
    result: dict[str, Any] | None = None


def safe_name(file_name: str) -> str:
    """The last path segment, reduced to ``[A-Za-z0-9._-]`` (never empty, at most 100 characters)."""
    base = re.split(r"[\\/]", file_name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[:100]
    return cleaned or "file"


class Uploads:
    def __init__(self, s3: Any, bucket: str, types: tuple[str, ...], max_bytes: int, expiry_s: int) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.types = types
        self.max_bytes = max_bytes
        self.expiry_s = expiry_s

    async def check(self) -> None:
        await aws.call(self.s3.head_bucket, Bucket=self.bucket)

    def origin(self) -> str:
        """Where browsers POST uploads (scheme://host[:port]): the storefront's CSP must allow it.

        Signing is local (no request is sent); the SDK resolves the endpoint exactly as it will
        for a real presigned POST: the local endpoint here, the bucket's S3 host in AWS.
        """
        url = self.s3.generate_presigned_post(Bucket=self.bucket, Key=f"{UPLOADS}origin-probe")["url"]
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    async def presign(self, caller: Caller, data: PresignRequest) -> PresignedUpload:
        file_type = data.file_type.split(";")[0].strip().lower()
        if file_type not in self.types:
            raise Invalid(f"file_type must be one of {', '.join(self.types)}")
        key = f"{UPLOADS}{caller.user_id}/{uuid.uuid4().hex}-{safe_name(data.file_name)}"
        post_ = await aws.call(
            self.s3.generate_presigned_post, Bucket=self.bucket, Key=key,
            Fields={"Content-Type": file_type},
            Conditions=[{"Content-Type": file_type}, ["content-length-range", 1, self.max_bytes]],
            ExpiresIn=self.expiry_s,
        )
        return PresignedUpload(url=post_["url"], fields=dict(post_["fields"]), key=key,
                               expires_in=self.expiry_s, max_bytes=self.max_bytes)

    async def status(self, caller: Caller, key: str) -> FileStatus:
        own = f"{UPLOADS}{caller.user_id}/"
        if not key.startswith(own) or ".." in key.split("/") or len(key) <= len(own):
            raise NotFound("no such upload")
        exists = await self._exists(key)
        processed_key = f"{PROCESSED}{key[len(UPLOADS):]}.json"
        result = await self._json(processed_key)
        if not exists and result is None:
            raise NotFound("no such upload")
        return FileStatus(key=key, exists=exists, processed=result is not None, result=result)

    async def _exists(self, key: str) -> bool:
        try:
            await aws.call(self.s3.head_object, Bucket=self.bucket, Key=key)
        except self.s3.exceptions.ClientError as exc:
            if aws.error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    async def _json(self, key: str) -> dict[str, Any] | None:
        try:
            answer = await aws.call(self.s3.get_object, Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            return None
        except self.s3.exceptions.ClientError as exc:
            if aws.error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        raw = await aws.call(answer["Body"].read)
        try:
            value = json.loads(raw)
        except ValueError:
            return {"status": "unreadable"}
        return value if isinstance(value, dict) else {"status": "unreadable"}


Key = Annotated[str, Parameter(min_length=1, max_length=1024)]
AnyRequest = Request[Any, Any, Any]


def uploads_controller(uploads: Uploads, callers: Callers) -> type[Controller]:
    class UploadsController(Controller):
        path = "/api/s3"
        tags = ["uploads"]  # noqa: RUF012
        security = SECURITY

        @post("/presigned-url", status_code=200, summary="A presigned POST for one upload of the caller")
        async def presigned_url(self, request: AnyRequest, data: PresignRequest) -> PresignedUpload:
            return await uploads.presign(callers.of(request), data)

        @get("/file-status", summary="Whether an upload of the caller arrived and was processed")
        async def file_status(self, request: AnyRequest, key: Key) -> FileStatus:
            return await uploads.status(callers.of(request), key)

    return UploadsController
