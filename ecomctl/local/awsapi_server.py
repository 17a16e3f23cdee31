"""The local AWS API endpoint for S3, SQS and SNS: moto's server, provisioned from the topology.

Run by the supervisor as ``python -m ecomctl.local.awsapi_server``. moto keeps everything in
memory, so this process (re)creates the topology's buckets, queues, topics, subscriptions and
the bucket notification every time it starts (a crash restart heals itself), restores the
objects of its last snapshot, and snapshots objects to disk every few seconds and on SIGTERM
(``up`` after ``down`` keeps the uploads). Queued messages are not kept across restarts.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from blueprint.topology import TOPOLOGY

SNAPSHOT_INTERVAL_S = 5.0


def _clients(url: str) -> dict[str, Any]:
    import boto3

    kw: dict[str, Any] = dict(
        endpoint_url=url, region_name="us-east-1", aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return {name: boto3.client(name, **kw) for name in ("s3", "sqs", "sns")}


def provision(url: str, prefix: str, cors_origins: list[str]) -> dict[str, str]:
    """Create every bucket/queue/topic of the topology; returns logical name -> URL/ARN."""
    c = _clients(url)
    made: dict[str, str] = {}
    for topic in TOPOLOGY.notification_topics:
        made[topic.name] = c["sns"].create_topic(Name=prefix + topic.name)["TopicArn"]
    for queue in TOPOLOGY.queues:
        q_url = c["sqs"].create_queue(
            QueueName=prefix + queue.name,
            Attributes={"VisibilityTimeout": str(queue.visibility_timeout_s),
                        "MessageRetentionPeriod": str(queue.retention_s)},
        )["QueueUrl"]
        made[queue.name] = q_url
        if queue.subscribes_to:
            arn = c["sqs"].get_queue_attributes(QueueUrl=q_url, AttributeNames=["QueueArn"])[
                "Attributes"]["QueueArn"]
            c["sns"].subscribe(
                TopicArn=made[queue.subscribes_to], Protocol="sqs", Endpoint=arn,
                Attributes={"RawMessageDelivery": "true"},
            )
    for bucket in TOPOLOGY.buckets:
        name = prefix + bucket.name
        c["s3"].create_bucket(Bucket=name)
        c["s3"].put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            },
        )
        if cors_origins:
            c["s3"].put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
                "AllowedOrigins": cors_origins, "AllowedMethods": ["POST", "GET", "HEAD"],
                "AllowedHeaders": ["*"], "MaxAgeSeconds": 600,
            }]})
        if bucket.notify_queue:
            q_arn = c["sqs"].get_queue_attributes(
                QueueUrl=made[bucket.notify_queue], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            c["s3"].put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={"QueueConfigurations": [{
                    "QueueArn": q_arn, "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": bucket.notify_prefix}]}},
                }]},
            )
        made[bucket.name] = name
    return made


class Snapshots:
    """Objects of the topology's buckets, mirrored to ``root/<bucket>/<quoted key>``."""

    def __init__(self, url: str, prefix: str, root: Path) -> None:
        self._s3 = _clients(url)["s3"]
        self._prefix = prefix
        self._root = root
        self._seen: dict[tuple[str, str], str] = {}

    def restore(self) -> int:
        count = 0
        for bucket in TOPOLOGY.buckets:
            folder = self._root / bucket.name
            if not folder.is_dir():
                continue
            for path in folder.glob("*.obj"):
                key = urllib.parse.unquote(path.stem)
                meta_path = path.with_suffix(".meta")
                meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
                self._s3.put_object(
                    Bucket=self._prefix + bucket.name, Key=key, Body=path.read_bytes(),
                    ContentType=meta.get("content_type", "binary/octet-stream"),
                    Metadata=meta.get("metadata", {}),
                )
                count += 1
        self.save()  # record what is there now, so the restore itself is not saved again
        return count

    def save(self) -> None:
        for bucket in TOPOLOGY.buckets:
            name = self._prefix + bucket.name
            folder = self._root / bucket.name
            folder.mkdir(parents=True, exist_ok=True)
            present: set[str] = set()
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    key, etag = obj["Key"], obj["ETag"]
                    present.add(key)
                    if self._seen.get((bucket.name, key)) == etag:
                        continue
                    got = self._s3.get_object(Bucket=name, Key=key)
                    stem = urllib.parse.quote(key, safe="")
                    (folder / f"{stem}.obj").write_bytes(got["Body"].read())
                    (folder / f"{stem}.meta").write_text(json.dumps({
                        "content_type": got.get("ContentType"), "metadata": got.get("Metadata", {}),
                    }))
                    self._seen[(bucket.name, key)] = etag
            for (b, key) in list(self._seen):
                if b == bucket.name and key not in present:
                    stem = urllib.parse.quote(key, safe="")
                    for suffix in (".obj", ".meta"):
                        (folder / f"{stem}{suffix}").unlink(missing_ok=True)
                    del self._seen[(b, key)]


def drop_expired_messages(now: float | None = None) -> int:
    """Delete messages older than their queue's retention period, as SQS does.

    moto only skips expired messages when receiving, so a queue nobody drains (the SNS
    subscriber queue) would grow without bound and slow every publish down. This reaches into
    moto's in-process backend: this process *is* the emulator. Messages are appended in the order
    they were sent, so the expired ones are a prefix, cut in place under the queue's own lock (a
    message sent meanwhile is kept).
    """
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    now = time.time() if now is None else now
    dropped = 0
    for backend in sqs_backends[DEFAULT_ACCOUNT_ID].values():
        for queue in list(backend.queues.values()):
            retention = int(getattr(queue, "message_retention_period", 345600))  # set from attributes
            cutoff_ms = (now - retention) * 1000
            with queue._messages_lock:
                messages = queue._messages
                expired = next((n for n, m in enumerate(messages) if (m.sent_timestamp or 0) >= cutoff_ms),
                               len(messages))
                for message in messages[:expired]:
                    queue._pending_messages.discard(message)
                del messages[:expired]
            dropped += expired
    return dropped


def forget_published(keep: int = 100) -> int:
    """Keep only the last ``keep`` messages moto records per SNS topic (``sent_notifications``, for
    its own inspection API): it never drops any, so the process grew by every message published
    (measured: ~1.3 KiB each, 0.7 GiB an hour at 150 orders/s), long after the subscriber queue
    expired its copy."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    forgotten = 0
    for backend in sns_backends[DEFAULT_ACCOUNT_ID].values():
        for topic in list(backend.topics.values()):
            excess = max(0, len(topic.sent_notifications) - keep)
            del topic.sent_notifications[:excess]  # one step under the GIL: a publish meanwhile is kept
            forgotten += excess
    return forgotten


class _Untracked(list[Any]):
    """An ``instances_tracked`` list that keeps nothing."""

    def append(self, _instance: Any) -> None:
        pass


def stop_tracking_messages() -> None:
    """moto keeps every model instance it ever created in its class's ``instances_tracked`` (for
    its dashboard), SQS messages included: each message published to the topic stayed in memory
    for good, its expiry from the queue notwithstanding (~2 KiB each: 1 GiB an hour at 150
    orders/s). SQS messages are no longer tracked, so an expired one is freed."""
    from moto.sqs.models import Message

    if not isinstance(getattr(Message, "instances_tracked", None), _Untracked):
        setattr(Message, "instances_tracked", _Untracked())  # noqa: B010 (set by moto's metaclass)


class _LazyQueueAttributes(Mapping[str, Any]):
    """moto's ``Queue.attributes``, computed only when more than the dedup flag is read."""

    def __init__(self, queue: Any, compute: Callable[[Any], dict[str, Any]]) -> None:
        self._queue = queue
        self._compute = compute
        self._all: dict[str, Any] | None = None

    def _full(self) -> dict[str, Any]:
        if self._all is None:
            self._all = self._compute(self._queue)
        return self._all

    def __getitem__(self, key: str) -> Any:
        if key == "ContentBasedDeduplication" and self._all is None:  # what SendMessage reads
            if not self._queue.fifo_queue:
                raise KeyError(key)  # only FIFO queues have it, as in the full dict
            value = getattr(self._queue, "content_based_deduplication", None)
            return str(value).lower() if isinstance(value, bool) else value
        return self._full()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._full())

    def __len__(self) -> int:
        return len(self._full())


def make_send_independent_of_queue_depth() -> None:
    """Every SendMessage (and so every SNS publish to a topic with a queue subscribed) read one
    flag from ``queue.attributes``, which moto builds in full, counting the queue's messages with
    two datetime conversions each: publishing slowed linearly with the subscriber queue's depth
    (measured 5 ms at 100 queued, 35 ms at 1,200). The attributes are now computed when read.
    """
    from moto.sqs.models import Queue

    if getattr(Queue, "_ecomctl_lazy_attributes", False):
        return
    compute: Callable[[Any], dict[str, Any]] = Queue.__dict__["attributes"].fget
    Queue.attributes = property(lambda queue: _LazyQueueAttributes(queue, compute))  # type: ignore[assignment]
    Queue._ecomctl_lazy_attributes = True  # type: ignore[attr-defined]


def remember_backends() -> None:
    """moto's server finds the backend of every request anew: it lists its own package folder
    (``os.listdir`` and an ``isdir`` per service) and tries each service's URL patterns, ~0.5 ms of
    CPU per request on a busy machine, about an eighth of what it spent serving the notification
    path. The answer depends only on the host (service and region), so it is now kept per host,
    for up to 256 hosts (measured, one lookup of an SNS request: 518-537 -> 2 us of CPU)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_ecomctl_remembered", False):
        return
    find = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def remembered(self: Any, host: str | None) -> Any:
        if host in known:
            return known[host]
        backend = find(self, host)
        if len(known) < 256:
            known[host] = backend
        return backend

    DomainDispatcherApplication.get_backend_for_host = remembered  # type: ignore[method-assign]
    DomainDispatcherApplication._ecomctl_remembered = True  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--snapshot-dir", type=Path, required=True)
    parser.add_argument("--cors-origin", action="append", default=[])
    args = parser.parse_args(argv)

    import logging

    from moto.server import ThreadedMotoServer

    make_send_independent_of_queue_depth()
    stop_tracking_messages()
    remember_backends()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{args.port}"
    provision(url, args.prefix, args.cors_origin)
    snapshots = Snapshots(url, args.prefix, args.snapshot_dir)
    restored = snapshots.restore()
    print(f"awsapi: S3/SQS/SNS ready on {url} ({restored} objects restored)", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(SNAPSHOT_INTERVAL_S):
        try:
            snapshots.save()
            drop_expired_messages()
            forget_published()
        except Exception as exc:  # keep serving; the next round retries
            print(f"awsapi: housekeeping failed: {exc}", file=sys.stderr, flush=True)
    snapshots.save()
    # No server.stop(): it joins every request thread, and a ReceiveMessage long poll (the file
    # processor's waits up to 5 s, on in moto after its client is gone) held `down` that long
    # (awsapi stopped in 0.1-2.8 s, the longest part of a `down`). The request threads are daemons:
    # they end with the process, the objects saved.
    print("awsapi: stopped, objects saved", flush=True)
    time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
