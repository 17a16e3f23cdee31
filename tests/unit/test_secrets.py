from __future__ import annotations

from pathlib import Path

from blueprint.topology import TOPOLOGY
from ecomctl import secrets


def test_generated_once_stored_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "s" / "secrets.json"
    first = secrets.load_or_create(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert secrets.load_or_create(path) == first
    assert set(first.mysql_passwords) == {d.name for d in TOPOLOGY.databases}
    assert len(set(first.values())) == len(first.values())  # all distinct
    assert all(v.isalnum() and len(v) >= 20 for v in first.values())


def test_redact_masks_every_secret() -> None:
    s = secrets.StackSecrets.generate()
    text = f"password={s.admin_password} jwt {s.jwt_secret}"
    red = secrets.redact(text, s.values())
    assert s.admin_password not in red and s.jwt_secret not in red
    assert red == "password=**** jwt ****"
