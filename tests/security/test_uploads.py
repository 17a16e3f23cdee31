"""Upload confinement: a user uploads only under ``uploads/<own id>/``, to the one key it was given,
and reads back only its own uploads.

The local AWS endpoint (moto) stores any POST without checking its policy, so the presigned POST
is judged the way S3 judges it: its policy document is evaluated against the submitted form
(S3's POST policy rules: every condition holds, every form field is covered by one) and its
signature checked with the stack's credentials. The read side is the gateway's file-status route
on the real stack.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from tests.security.conftest import upload
from tests.services.conftest import Account

pytestmark = pytest.mark.platform

UNSIGNED_FIELDS = {"policy", "signature", "awsaccesskeyid", "x-amz-signature", "file"}
HOSTILE_NAMES = ["../../{other}/evil.txt", "/uploads/{other}/evil.txt", "..\\..\\{other}\\evil.txt",
                 "....//....//evil.txt", ".env", "a/b/../../c.txt", "%2e%2e%2fevil.txt", "evil\x00.txt"]


def presign(api: httpx.Client, account: Account, file_name: str, file_type: str = "text/plain") -> dict[str, Any]:
    answer = api.post("/api/s3/presigned-url", json={"file_name": file_name, "file_type": file_type},
                      headers=account.headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def policy_refusal(form: dict[str, str], bucket: str, size: int, policy: dict[str, Any]) -> str | None:
    """Why S3 would refuse a POST of ``form`` with a ``size``-byte file under ``policy`` (None: accepted)."""
    if datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00")) <= datetime.now(UTC):
        return "expired"
    values = {k.lower(): v for k, v in form.items()} | {"bucket": bucket}
    covered = {"bucket"}
    for condition in policy["conditions"]:
        if isinstance(condition, dict):
            ((name, wanted),) = condition.items()
            op, field, operand = "eq", name.lower(), wanted
        elif condition[0] == "content-length-range":
            if not condition[1] <= size <= condition[2]:
                return f"size {size} outside {condition[1]}-{condition[2]}"
            continue
        else:
            op, field, operand = condition[0], condition[1].lstrip("$").lower(), condition[2]
        covered.add(field)
        value = values.get(field)
        if value is None or not (value == operand if op == "eq" else op == "starts-with" and value.startswith(operand)):
            return f"{field}={value!r} fails {op} {operand!r}"
    uncovered = {k for k in values if k not in UNSIGNED_FIELDS and not k.startswith("x-ignore-")} - covered
    return f"fields no condition names: {sorted(uncovered)}" if uncovered else None


def signature_ok(form: dict[str, str], secret_key: str) -> bool:
    """Signature version 2 of a POST policy: base64(HMAC-SHA1(secret, policy))."""
    expected = base64.b64encode(hmac.new(secret_key.encode(), form["policy"].encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(expected, form["signature"])


def test_keys_stay_under_the_callers_prefix_whatever_the_file_name(
    api: httpx.Client, new_user: Callable[[], Account]
) -> None:
    owner, other = new_user(), new_user()
    own = re.compile(rf"^uploads/{owner.id}/[0-9a-f]{{32}}-[A-Za-z0-9_-][A-Za-z0-9._-]*$")
    keys = [presign(api, owner, name.format(other=other.id))["key"] for name in HOSTILE_NAMES]
    assert [key for key in keys if not own.match(key) or ".." in key.split("/")] == []


def test_the_presigned_post_allows_that_one_key_and_nothing_else(
    api: httpx.Client, platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    owner, other = new_user(), new_user()
    given = presign(api, owner, "report.txt")
    form, bucket = given["fields"], urlsplit(given["url"]).path.strip("/").split("/")[0]
    policy = json.loads(base64.b64decode(form["policy"]))
    secret_key = platform.service_env("api-gateway")["AWS_SECRET_ACCESS_KEY"]
    assert {"policy", "signature", "AWSAccessKeyId"} <= set(form), "expected a signature-version-2 form"
    assert signature_ok(form, secret_key)
    assert policy_refusal(form, bucket, 100, policy) is None  # the honest upload
    attempts = {
        "another user's prefix": {**form, "key": f"uploads/{other.id}/stolen.txt"},
        "another of its own keys": {**form, "key": f"uploads/{owner.id}/other.txt"},
        "outside uploads/": {**form, "key": f"processed/uploads/{owner.id}/x.json"},
        "another content type": {**form, "Content-Type": "text/html"},
        "an extra field": {**form, "acl": "public-read"},
    }
    assert {name: policy_refusal(f, bucket, 100, policy) is None for name, f in attempts.items()} == dict.fromkeys(
        attempts, False)
    assert policy_refusal(form, bucket, 0, policy) is not None
    assert policy_refusal(form, bucket, given["max_bytes"] + 1, policy) is not None
    assert policy_refusal(form, "another-bucket", 100, policy) is not None
    # a policy rewritten to allow the whole prefix no longer matches its signature
    widened = {**policy, "conditions": [c for c in policy["conditions"] if not (isinstance(c, dict) and "key" in c)]
               + [["starts-with", "$key", "uploads/"]]}
    forged = {**form, "policy": base64.b64encode(json.dumps(widened).encode()).decode()}
    assert not signature_ok(forged, secret_key)


def test_an_upload_is_read_back_by_its_owner_only(
    api: httpx.Client, new_user: Callable[[], Account], admin: Account
) -> None:
    owner, other = new_user(), new_user()
    key = upload(api, owner, b"private\n")
    own_key = upload(api, other, b"mine\n")
    name = key.rsplit("/", 1)[1]

    def status(account: Account, asked: str) -> int:
        return api.get("/api/s3/file-status", params={"key": asked}, headers=account.headers).status_code

    assert status(owner, key) == 200 and status(other, own_key) == 200
    probes = [key, f"uploads/{other.id}/../{owner.id}/{name}", f"uploads/{other.id}/./../{owner.id}/{name}",
              f"processed/{key.removeprefix('uploads/')}.json", f"uploads/{other.id}/", f"uploads/{other.id}",
              f"uploads/{other.id}//../../{key}"]
    assert {probe: status(other, probe) for probe in probes} == dict.fromkeys(probes, 404)
    assert status(admin, key) == 404  # the file-status route answers for the caller's own uploads only
