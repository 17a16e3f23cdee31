"""The Kafka password, kept in a file that Kafka's own config provider reads (stdlib only).

The job's Kafka table options never hold the password: they name this file, and the Kafka client
inside the connector resolves ``${file:<path>:password}`` itself when it is created (KIP-421, the
shaded ``FileConfigProvider``; see ``stream.sql.kafka_options``). So the password is in no table
option, job graph, compiled plan or log.

The file is a Java properties file with one key, ``password``, whose value is the password quoted
for a JAAS string (``\\`` and ``"`` escaped): the client substitutes it inside
``password="..."`` of the JAAS line, before parsing that line.

Locally ``stream/launch.py`` writes it (``child_env``) from ``KAFKA_SASL_PASSWORD`` into the job's
private state directory (``<state_dir>/flink/secrets/``, mode 0700, the file 0600), hands the job
``KAFKA_SASL_PASSWORD_FILE`` instead of the password, and deletes it when the job exits. On
Dataproc the initialisation action writes it on every node (``programs/gcp/dataproc_init.sh``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

PASSWORD_KEY = "password"
PASSWORD_ENV = "KAFKA_SASL_PASSWORD"
PASSWORD_FILE_ENV = "KAFKA_SASL_PASSWORD_FILE"
FILE_NAME = "kafka-client.properties"


def secret_file(state_dir: Path) -> Path:
    """Where the launcher keeps the password file: the job's private state directory."""
    return state_dir / "flink" / "secrets" / FILE_NAME


def jaas_quoted(value: str) -> str:
    """The body of a JAAS double-quoted string (Kafka's parser unescapes ``\\`` and ``"``)."""
    if "\n" in value or "\r" in value:
        raise ValueError("a Kafka SASL credential cannot contain a line break")
    return value.replace("\\", "\\\\").replace('"', '\\"')


def properties_value(value: str) -> str:
    """``value`` written as a ``java.util.Properties`` value (read back exactly by ``load``)."""
    out = []
    for index, char in enumerate(value):
        if char == "\\":
            out.append("\\\\")
        elif char in "\t\f" or (char == " " and index == 0):
            out.append({"\t": "\\t", "\f": "\\f", " ": "\\ "}[char])
        elif not " " <= char <= "~":  # as UTF-16 units, whatever charset the reader assumes
            data = char.encode("utf-16-be")
            out += [f"\\u{int.from_bytes(data[i:i + 2], 'big'):04x}" for i in range(0, len(data), 2)]
        else:
            out.append(char)
    return "".join(out)


def write_password_file(path: Path, password: str) -> Path:
    """Write (atomically, owner-only) the properties file the Kafka client reads the password from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    body = f"{PASSWORD_KEY}={properties_value(jaas_quoted(password))}\n"
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(body)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return path


def child_env(env: Mapping[str, str], state_dir: Path) -> tuple[dict[str, str], Path | None]:
    """The job's environment: ``KAFKA_SASL_PASSWORD`` swapped for the file it was written to.

    Returns the environment and the file written (None when there is no password to hide).
    """
    out = dict(env)
    password = out.pop(PASSWORD_ENV, "")
    if not password:
        return out, None
    path = write_password_file(secret_file(state_dir).resolve(), password)
    out[PASSWORD_FILE_ENV] = str(path)
    return out, path
