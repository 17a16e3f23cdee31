"""Through the platform: presigned POST upload -> S3 notification -> runner -> handler -> file-status."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.platform, pytest.mark.slow]


def login(gateway: str) -> dict[str, str]:
    email = f"upload-{uuid.uuid4().hex[:10]}@example.com"
    password = "correct horse battery staple"
    created = httpx.post(f"{gateway}/api/users", json={"name": "Uploader", "email": email, "password": password})
    assert created.status_code == 201, created.text
    token = httpx.post(f"{gateway}/api/auth/login", json={"email": email, "password": password})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def upload(gateway: str, headers: dict[str, str], name: str, file_type: str, content: bytes) -> str:
    presigned = httpx.post(f"{gateway}/api/s3/presigned-url", headers=headers,
                           json={"file_name": name, "file_type": file_type})
    assert presigned.status_code == 200, presigned.text
    form = presigned.json()
    posted = httpx.post(form["url"], data=form["fields"], files={"file": (name, content, file_type)})
    assert posted.status_code in (200, 201, 204), posted.text
    key: str = form["key"]
    return key


def processed_status(gateway: str, headers: dict[str, str], key: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        status = httpx.get(f"{gateway}/api/s3/file-status", params={"key": key}, headers=headers)
        assert status.status_code == 200, status.text
        body: dict[str, Any] = status.json()
        if body["processed"]:
            return body
        assert time.monotonic() < deadline, f"{key} not processed within {timeout_s}s: {body}"
        time.sleep(0.3)


def test_upload_is_processed_and_file_status_says_so(platform: Any) -> None:
    gateway = platform.gateway_url
    headers = login(gateway)
    content = b"sku,qty\nA-1,2\nB-7,10\n"
    key = upload(gateway, headers, "stock list.csv", "text/csv", content)

    body = processed_status(gateway, headers, key)

    assert body["exists"] is True
    result = body["result"]
    assert result["status"] == "ok"
    assert (result["bytes"], result["lines"], result["words"]) == (len(content), 3, 3)
    assert result["sha256"] == hashlib.sha256(content).hexdigest()


def test_non_utf8_upload_is_rejected_with_a_reason(platform: Any) -> None:
    gateway = platform.gateway_url
    headers = login(gateway)
    key = upload(gateway, headers, "latin1.txt", "text/plain", "Grüße aus Köln\n".encode("latin-1"))

    result = processed_status(gateway, headers, key)["result"]

    assert result["status"] == "rejected"
    assert result["reason"].startswith("not valid UTF-8")
