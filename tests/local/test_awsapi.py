"""The local AWS endpoint process: provisioning from the topology, expiry, S3 snapshots (real moto)."""

from __future__ import annotations

import gc
import socket
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from blueprint.topology import TOPOLOGY
from ecomctl.local.awsapi_server import (
    Snapshots,
    drop_expired_messages,
    forget_published,
    make_send_independent_of_queue_depth,
    provision,
    stop_tracking_messages,
)


@pytest.fixture(name="moto_url", scope="module")
def fx_moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _client(name: str, url: str) -> Any:
    return boto3.client(name, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x")


def test_provisioning_is_idempotent_and_wires_notifications(moto_url: str) -> None:
    first = provision(moto_url, "t1-", ["http://127.0.0.1:8000"])
    assert provision(moto_url, "t1-", ["http://127.0.0.1:8000"]) == first
    for q in TOPOLOGY.queues:
        assert first[q.name].endswith(f"/123456789012/t1-{q.name}")
    s3 = _client("s3", moto_url)
    cfg = s3.get_bucket_notification_configuration(Bucket="t1-data")["QueueConfigurations"][0]
    assert cfg["QueueArn"].endswith(":t1-file-uploads")
    rules = s3.get_bucket_cors(Bucket="t1-data")["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["http://127.0.0.1:8000"]
    block = s3.get_public_access_block(Bucket="t1-data")["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_expired_messages_are_dropped_and_fresh_ones_kept(moto_url: str) -> None:
    made = provision(moto_url, "t2-", [])
    sqs = _client("sqs", moto_url)
    queue = made["notification-deliveries"]
    for i in range(3):
        sqs.send_message(QueueUrl=queue, MessageBody=str(i))
    assert drop_expired_messages() == 0
    retention = TOPOLOGY.queue("notification-deliveries").retention_s
    assert drop_expired_messages(now=time.time() + retention + 5) >= 3
    attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_published_messages_are_freed_once_the_subscriber_queue_expired_them(moto_url: str) -> None:
    """Sustained publishing holds at most the retention period's messages: moto kept every SQS
    message and every published one for good (memory grew by ~3 KiB per notification)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    stop_tracking_messages()
    made = provision(moto_url, "t5-", [])
    sns = _client("sns", moto_url)
    for batch in range(3):
        sns.publish_batch(TopicArn=made["order-notifications"], PublishBatchRequestEntries=[
            {"Id": str(n), "Message": f"m{batch}-{n}",
             "MessageAttributes": {"event_id": {"DataType": "String", "StringValue": f"e{batch}-{n}"}}}
            for n in range(10)])
    queue = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues["t5-notification-deliveries"]
    queued = [weakref.ref(m) for m in queue._messages]
    assert len(queued) == 30
    topic = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].topics[made["order-notifications"]]
    assert len(topic.sent_notifications) >= 30

    assert forget_published(keep=5) >= 25
    assert [n[1] for n in topic.sent_notifications] == [f"m2-{n}" for n in range(5, 10)]  # the newest kept
    retention = TOPOLOGY.queue("notification-deliveries").retention_s
    drop_expired_messages(now=time.time() + retention + 5)
    gc.collect()
    assert [ref for ref in queued if ref() is not None] == []


def test_sending_does_not_count_the_queue_and_attributes_stay_whole(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.sqs.models import Queue

    make_send_independent_of_queue_depth()
    sqs = _client("sqs", moto_url)
    standard = sqs.create_queue(QueueName="t4-standard")["QueueUrl"]
    fifo = sqs.create_queue(QueueName="t4-dedup.fifo",
                            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    counted: list[str] = []
    real_messages = Queue.__dict__["messages"]

    def counting_messages(queue: Any) -> Any:
        counted.append(queue.name)
        return real_messages.fget(queue)

    monkeypatch.setattr(Queue, "messages", property(counting_messages))
    for i in range(3):
        sqs.send_message(QueueUrl=standard, MessageBody=str(i))
        sqs.send_message(QueueUrl=fifo, MessageBody="same body", MessageGroupId="g")  # deduplicated
    assert counted == []  # no send walked a queue's messages
    standard_attrs = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
    fifo_attrs = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
    assert standard_attrs["ApproximateNumberOfMessages"] == "3"
    assert "ContentBasedDeduplication" not in standard_attrs
    assert fifo_attrs["ContentBasedDeduplication"] == "true"
    assert fifo_attrs["ApproximateNumberOfMessages"] == "1"  # content-based dedup still applies


def test_snapshots_restore_objects_and_forget_deleted_ones(moto_url: str, tmp_path: Path) -> None:
    provision(moto_url, "t3-", [])
    s3 = _client("s3", moto_url)
    s3.put_object(Bucket="t3-data", Key="uploads/u1/a b.txt", Body=b"hello", ContentType="text/plain")
    s3.put_object(Bucket="t3-data", Key="uploads/u1/gone.txt", Body=b"bye")
    snaps = Snapshots(moto_url, "t3-", tmp_path)
    snaps.save()
    s3.delete_object(Bucket="t3-data", Key="uploads/u1/gone.txt")
    snaps.save()
    for obj in s3.list_objects_v2(Bucket="t3-data").get("Contents", []):
        s3.delete_object(Bucket="t3-data", Key=obj["Key"])
    assert Snapshots(moto_url, "t3-", tmp_path).restore() == 1
    got = s3.get_object(Bucket="t3-data", Key="uploads/u1/a b.txt")
    assert got["Body"].read() == b"hello" and got["ContentType"] == "text/plain"
