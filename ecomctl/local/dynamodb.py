"""DynamoDB Local (Maven Central), persistent on disk, with the topology's tables."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecomctl.local import maven, probes
from ecomctl.local.context import HOST, LocalContext, physical_name
from ecomctl.local.spec import ComponentSpec
from ecomctl.topology import Table

NAME = "dynamodb"
VERSION = "2.6.1"
SQLITE4JAVA = "1.0.392"
ARTIFACTS = (
    maven.Artifact("com.amazonaws", "DynamoDBLocal", VERSION),
    maven.Artifact("com.almworks.sqlite4java", "libsqlite4java-linux-amd64", SQLITE4JAVA, "so"),
)


def _lib(ctx: LocalContext, progress: Callable[[str], None] = lambda _m: None) -> Path:
    return maven.resolve("dynamodb-local", ARTIFACTS, ctx.settings.cache_dir, ctx.settings.java_home(), progress)


def _native_dir(lib: Path) -> Path:
    """sqlite4java looks for ``libsqlite4java-linux-amd64.so`` (no version) on its library path."""
    native = lib / "native"
    target = native / "libsqlite4java-linux-amd64.so"
    if not target.exists():
        native.mkdir(exist_ok=True)
        shutil.copy(lib / f"libsqlite4java-linux-amd64-{SQLITE4JAVA}.so", target)
    return native


def prepare(ctx: LocalContext, progress: Callable[[str], None]) -> None:
    _native_dir(_lib(ctx, progress))
    ctx.layout.component_data(NAME).mkdir(parents=True, exist_ok=True)


def spec(ctx: LocalContext) -> ComponentSpec:
    java_home = ctx.settings.java_home()
    lib = _lib(ctx)
    port = ctx.port(NAME)
    return ComponentSpec(
        name=NAME,
        kind="store",
        requires=(),
        command=(
            str(java_home / "bin" / "java"), "-Xms128m", "-Xmx512m", "-XX:+UseG1GC",
            f"-Dsqlite4java.library.path={_native_dir(lib)}", "-cp", f"{lib}/*",
            "com.amazonaws.services.dynamodbv2.local.main.ServerRunner",
            "-port", str(port), "-dbPath", str(ctx.layout.component_data(NAME)), "-sharedDb",
        ),
        env={"JAVA_HOME": str(java_home)},
        cwd=ctx.layout.component_data(NAME),
        probe=lambda: probes.http_status(f"http://{HOST}:{port}/", expect=0),
        ports=(port,),
        url=f"http://{HOST}:{port}",
        start_seconds=2,
        stop_wait_seconds=10,
        provision=lambda: provision(ctx),
        description=f"DynamoDB Local {VERSION} (products, notifications, analytics)",
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
