"""Fixtures of the security tests: the service tests' accounts and clients, the programs' mock runs;
``upload``, a real upload through a presigned POST."""

from __future__ import annotations

import httpx

from tests.programs.conftest import fx_dev, fx_dev_cfg  # noqa: F401
from tests.services.conftest import (  # noqa: F401
    Account,
    fx_admin,
    fx_api,
    fx_new_product,
    fx_new_user,
    fx_user,
)


def upload(api: httpx.Client, account: Account, content: bytes) -> str:
    """Uploads ``content`` as ``account`` through a presigned POST; the object's key."""
    presigned = api.post("/api/s3/presigned-url", json={"file_name": "mine.txt", "file_type": "text/plain"},
                         headers=account.headers)
    assert presigned.status_code == 200, presigned.text
    body = presigned.json()
    stored = httpx.post(body["url"], data=body["fields"], files={"file": ("mine.txt", content, "text/plain")},
                        timeout=15)
    assert stored.status_code in (200, 201, 204), stored.text
    key: str = body["key"]
    return key
