"""The local DynamoDB (Dynoxide): a stack kept from before, on DynamoDB Local, keeps its items.

Runs against the session platform's Dynoxide (tests/conftest.py), into tables of its own.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from ecomctl.local import dynamodb
from ecomctl.local.platform import LocalPlatform

pytestmark = [pytest.mark.platform]

# The layout DynamoDB Local 2.6.1 (-sharedDb) gives its SQLite file, as read off a real one: table
# metadata in ``dm``, one SQLite table per DynamoDB table with each item's DynamoDB JSON in
# ``ObjectJSON``. Written here by hand because DynamoDB Local is no longer installed to write it.
LEGACY_SCHEMA = (
    "CREATE TABLE dm (TableName TEXT, CreationDateTime INTEGER, TableInfo BLOB)",
    'CREATE TABLE "{hashed}" (hashKey TEXT DEFAULT NULL, hashValue BLOB NOT NULL, itemSize INTEGER DEFAULT 0,'
    " ObjectJSON BLOB NOT NULL, PRIMARY KEY(hashKey))",
    'CREATE TABLE "{ranged}" (hashKey TEXT DEFAULT NULL, rangeKey TEXT DEFAULT NULL, hashValue BLOB NOT NULL,'
    " rangeValue BLOB NOT NULL, itemSize INTEGER DEFAULT 0, ObjectJSON BLOB NOT NULL, PRIMARY KEY(hashKey, rangeKey))",
)


def legacy_file(path: Path, tables: dict[str, list[dict[str, Any]]], hashed: str, ranged: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in LEGACY_SCHEMA:
            conn.execute(statement.format(hashed=hashed, ranged=ranged))
        for table, items in tables.items():
            conn.execute("INSERT INTO dm (TableName, CreationDateTime, TableInfo) VALUES (?, 0, '{}')", (table,))
            for n, item in enumerate(items):
                document = json.dumps(item).encode()
                if table == hashed:
                    conn.execute(f'INSERT INTO "{table}" VALUES (?, ?, 0, ?)', (str(n), b"", document))
                else:
                    conn.execute(f'INSERT INTO "{table}" VALUES (?, ?, ?, ?, 0, ?)',
                                 (str(n), str(n), b"", b"", document))


def test_a_dynamodb_local_file_is_carried_over_once(platform: LocalPlatform, tmp_path: Path) -> None:
    client = boto3.client("dynamodb", endpoint_url=platform.context.dynamodb_url, region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    run = uuid.uuid4().hex[:8]
    hashed, ranged, skipped = f"carry-{run}-products", f"carry-{run}-notes", f"carry-{run}-gone"
    client.create_table(TableName=hashed, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    client.create_table(TableName=ranged, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "user", "AttributeType": "S"},
                                              {"AttributeName": "at", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "user", "KeyType": "HASH"},
                                   {"AttributeName": "at", "KeyType": "RANGE"}])
    products = [{"id": {"S": f"p{n}"}, "price": {"N": "19.99"}, "stock": {"N": str(n)},
                 "tags": {"SS": ["a", "b"]}, "hold_x": {"M": {"q": {"N": "1"}}}} for n in range(60)]
    notes = [{"user": {"S": "u1"}, "at": {"S": f"2026-01-01T00:00:{n:02d}Z"}, "body": {"S": "hi"}} for n in range(3)]
    db = tmp_path / dynamodb.LEGACY_DB
    legacy_file(db, {hashed: products, ranged: notes}, hashed, ranged)
    (tmp_path / dynamodb.LEGACY_METADATA).write_text('{"installationId":"x","telemetryEnabled":"false"}')
    try:
        copied = dynamodb.carry_over(db, [hashed, ranged, skipped], client)
        assert copied == 63
        for item in products:
            got = client.get_item(TableName=hashed, Key={"id": item["id"]}, ConsistentRead=True)["Item"]
            assert got == item
        stored = client.query(TableName=ranged, KeyConditionExpression="#u = :u",
                              ExpressionAttributeNames={"#u": "user"},
                              ExpressionAttributeValues={":u": {"S": "u1"}})["Items"]
        assert sorted(stored, key=lambda i: i["at"]["S"]) == notes
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            f"{name}.migrated" for name in (dynamodb.LEGACY_DB, dynamodb.LEGACY_METADATA))
        assert dynamodb.carry_over(db, [hashed, ranged], client) == 0  # once
    finally:
        client.delete_table(TableName=hashed)
        client.delete_table(TableName=ranged)
