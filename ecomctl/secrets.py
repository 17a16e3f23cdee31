"""Generated secrets of a stack (admin login, JWT key, database passwords).

Generated once at the first ``up``, stored as JSON readable by the owner only (0600), never
logged: ``redact`` masks them in any text that is about to be shown.
"""

from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path

from blueprint.topology import TOPOLOGY

_ALPHABET = string.ascii_letters + string.digits


def token(length: int = 24) -> str:
    """A random alphanumeric secret (safe in env files, URLs and config syntaxes)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class StackSecrets:
    admin_email: str
    admin_password: str
    jwt_secret: str
    mysql_root_password: str
    mysql_passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls) -> StackSecrets:
        return cls(
            admin_email="admin@ecomctl.local",
            admin_password=token(20),
            jwt_secret=token(48),
            mysql_root_password=token(24),
            mysql_passwords={db.name: token(24) for db in TOPOLOGY.databases},
        )

    def values(self) -> list[str]:
        return [self.admin_password, self.jwt_secret, self.mysql_root_password,
                *self.mysql_passwords.values()]


def load_or_create(path: Path) -> StackSecrets:
    """The stack's secrets, generating and storing them (0600) on first use."""
    if path.exists():
        data = json.loads(path.read_text())
        loaded = StackSecrets(**data)
        missing = {db.name for db in TOPOLOGY.databases} - set(loaded.mysql_passwords)
        if not missing:
            return loaded
        loaded.mysql_passwords.update({name: token(24) for name in missing})
        _write(path, loaded)
        return loaded
    created = StackSecrets.generate()
    _write(path, created)
    return created


def load(path: Path) -> StackSecrets | None:
    if not path.exists():
        return None
    return StackSecrets(**json.loads(path.read_text()))


def _write(path: Path, value: StackSecrets) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(value), fh, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def redact(text: str, secret_values: list[str]) -> str:
    """``text`` with every secret value replaced by ``****``."""
    for value in sorted(secret_values, key=len, reverse=True):
        if value:
            text = text.replace(value, "****")
    return text
