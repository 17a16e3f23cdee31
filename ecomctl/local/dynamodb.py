"""DynamoDB for the local stack: Dynoxide (a DynamoDB emulator in Rust on SQLite), persistent on disk.

Dynoxide serves the DynamoDB JSON API the services use (conditional and transactional writes,
queries on global secondary indexes, scans, TTL settings) from one native process. It replaced
DynamoDB Local (a JVM on sqlite4java): measured with ``bench/dynamodb_requests.py``, server CPU
per request for the reservation's conditional ``UpdateItem`` 0.36-0.39 ms against 0.73-0.82,
``PutItem`` 0.22-0.24 against 0.44-0.52, a ``TransactWriteItems`` of 25 1.6-1.9 against 4.1-4.8
(docs/benchmarks.md, "Local DynamoDB"); no JVM to start, 8 MiB resident against ~270 MiB.

The binary is the project's own prebuilt release from the npm registry (fetched with ``npm pack``,
checked against the pinned SHA-512, cached once per version). Where no prebuilt binary exists for
the platform, a ``dynoxide`` on ``PATH`` is used (``cargo install dynoxide-rs``).

A stack that still holds DynamoDB Local's file from before is carried over once, at provisioning:
its items are copied into the topology's tables and the old file is kept as ``*.migrated``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import platform
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from blueprint.topology import Table
from ecomctl.errors import PrerequisiteError, StartupError
from ecomctl.local import probes, system
from ecomctl.local.context import HOST, LocalContext, physical_name
from ecomctl.local.spec import ComponentSpec
from ecomctl.settings import Settings

NAME = "dynamodb"
VERSION = "1.2.1"
PACKAGE = "@dynoxide/linux-x64"
# dist.integrity of the npm package above (the registry's own record of the tarball).
INTEGRITY = "sha512-sBHqlxJ9ANkLluFkYRfd5r8Y0ApFew4FhOrlhgRAgD4XzEoFOukEo1nuBTQ1+jTtofqwn4NWQ2k0Tn5mNTjgUg=="
DB_FILE = "dynoxide.db"
LEGACY_DB = "shared-local-instance.db"  # DynamoDB Local's file (``-sharedDb``), carried over once
LEGACY_METADATA = "dynamodb-local-metadata.json"  # kept beside it by DynamoDB Local
BATCH = 25  # items per BatchWriteItem (DynamoDB's limit)


def _prebuilt() -> bool:
    return platform.system() == "Linux" and platform.machine() in ("x86_64", "AMD64")


def _cached(settings: Settings) -> Path:
    """Where the pinned prebuilt binary is kept once fetched."""
    return settings.cache_dir / "dynoxide" / VERSION / "dynoxide"


def installed(settings: Settings) -> Path | None:
    """The Dynoxide executable if it is already here (nothing is fetched): the pinned prebuilt one
    in the cache, or, where no prebuilt binary exists, ``dynoxide`` on PATH."""
    if not _prebuilt():
        found = system.which("dynoxide")
        return Path(found) if found else None
    cached = _cached(settings)
    return cached if cached.exists() else None


def binary(ctx: LocalContext, progress: Callable[[str], None] = lambda _m: None) -> Path:
    """The Dynoxide executable, the pinned prebuilt one fetched first when missing."""
    found = installed(ctx.settings)
    if found is not None:
        return found
    if not _prebuilt():
        raise PrerequisiteError(
            f"no prebuilt Dynoxide for {platform.system()} {platform.machine()}, and no `dynoxide` on PATH",
            hint="cargo install dynoxide-rs --locked (puts `dynoxide` in ~/.cargo/bin)",
        )
    target = _cached(ctx.settings)
    _fetch(target, progress)
    return target


def _fetch(target: Path, progress: Callable[[str], None]) -> None:
    (npm,) = system.ensure_commands(("npm",), "npm", "apt-get install -y npm (or put `dynoxide` on PATH)", progress)
    progress(f"fetching Dynoxide {VERSION} from the npm registry (once)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        proc = subprocess.run(
            [npm, "pack", "--silent", f"{PACKAGE}@{VERSION}", "--pack-destination", tmp],
            cwd=tmp, capture_output=True, text=True, timeout=300,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or len(tarballs) != 1:
            raise PrerequisiteError(
                f"could not fetch {PACKAGE}@{VERSION} from the npm registry",
                hint="check that the npm registry is reachable (npm ping; ~/.npmrc registry=)",
                details=(proc.stderr or proc.stdout)[-2000:],
            )
        _verify(tarballs[0])
        with tarfile.open(tarballs[0]) as archive:
            member = archive.getmember("package/dynoxide")
            source = archive.extractfile(member)
            if source is None:
                raise StartupError(f"{PACKAGE}@{VERSION} holds no dynoxide executable")
            partial = Path(tmp) / "dynoxide"
            partial.write_bytes(source.read())
        partial.chmod(0o755)
        os.replace(partial, target)  # atomic: a concurrent start sees the whole binary or none


def _verify(tarball: Path) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if digest != INTEGRITY:
        raise StartupError(
            f"{PACKAGE}@{VERSION} from the registry does not match its pinned checksum",
            details=f"expected {INTEGRITY}\ngot      {digest}",
        )


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    binary(ctx, progress)
    ctx.layout.component_data(NAME).mkdir(parents=True, exist_ok=True)


def spec(ctx: LocalContext) -> ComponentSpec:
    port = ctx.port(NAME)
    data = ctx.layout.component_data(NAME)
    return ComponentSpec(
        name=NAME,
        kind="store",
        requires=(),
        command=(str(binary(ctx)), "serve", "--host", HOST, "--port", str(port), "--db-path", str(data / DB_FILE)),
        env={"RUST_LOG": "warn"},
        cwd=data,
        probe=lambda: probes.http_status(f"http://{HOST}:{port}/"),
        ports=(port,),
        url=f"http://{HOST}:{port}",
        start_seconds=1,
        stop_wait_seconds=10,
        provision=lambda: provision(ctx),
        description=f"Dynoxide {VERSION} (products, notifications, analytics)",
    )


def table_request(table: Table) -> dict[str, Any]:
    """The CreateTable request of a topology table (on-demand billing, every key a string)."""
    request: dict[str, Any] = {
        "TableName": physical_name(table.name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in table.key_attributes
        ],
        "KeySchema": _key_schema(table.hash_key, table.range_key),
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": ix.name, "KeySchema": _key_schema(ix.hash_key, ix.range_key),
             "Projection": {"ProjectionType": "ALL"}}
            for ix in table.indexes
        ]
    return request


def _key_schema(hash_key: str, range_key: str | None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return schema


def provision(ctx: LocalContext) -> None:
    import boto3

    client = boto3.client(
        "dynamodb", endpoint_url=ctx.dynamodb_url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )
    existing = set(client.list_tables().get("TableNames", []))
    for table in ctx.topology.tables:
        name = physical_name(table.name)
        if name not in existing:
            client.create_table(**table_request(table))
            client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2})
        if table.ttl_attribute:
            try:
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
            except client.exceptions.ClientError as exc:  # already enabled
                if "already enabled" not in str(exc).lower():
                    raise
    carry_over(ctx.layout.component_data(NAME) / LEGACY_DB,
               [physical_name(t.name) for t in ctx.topology.tables], client)


def legacy_items(db: Path, tables: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, item) for every item DynamoDB Local kept of ``tables`` in its SQLite file."""
    with contextlib.closing(sqlite3.connect(db)) as conn:
        kept = {row[0] for row in conn.execute("SELECT TableName FROM dm")}
        for table in tables:
            if table not in kept:
                continue
            quoted = '"' + table.replace('"', '""') + '"'
            for (document,) in conn.execute(f"SELECT ObjectJSON FROM {quoted}"):
                yield table, json.loads(document)


def carry_over(db: Path, tables: list[str], client: Any) -> int:
    """Copies the items of DynamoDB Local's file ``db`` into ``tables``, once; the file is then kept
    as ``*.migrated``. Idempotent (items are put whole), so an interrupted copy is simply redone."""
    if not db.exists():
        return 0
    copied = 0
    pending: dict[str, list[dict[str, Any]]] = {}
    for table, item in legacy_items(db, tables):
        pending.setdefault(table, []).append({"PutRequest": {"Item": item}})
        if len(pending[table]) == BATCH:
            _write(client, table, pending.pop(table))
        copied += 1
    for table, requests in pending.items():
        _write(client, table, requests)
    for part in (*(db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm")), db.with_name(LEGACY_METADATA)):
        if part.exists():
            part.rename(part.with_name(part.name + ".migrated"))
    return copied


def _write(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    unprocessed: dict[str, Any] = {table: requests}
    for _ in range(10):
        unprocessed = client.batch_write_item(RequestItems=unprocessed).get("UnprocessedItems") or {}
        if not unprocessed:
            return
    raise StartupError(f"could not carry DynamoDB Local's items of {table} over (writes left unprocessed)")
