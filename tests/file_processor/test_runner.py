"""The local runner: real S3 -> SQS notifications (moto server), the same handler, bounded retries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from services.file_processor import runner
from tests.file_processor.conftest import Aws

REPO = Path(__file__).resolve().parents[2]


def make_queue(aws: Aws, visibility: int = 30) -> str:
    url: str = aws.sqs.create_queue(
        QueueName=f"uploads-{uuid.uuid4().hex[:8]}", Attributes={"VisibilityTimeout": str(visibility)},
    )["QueueUrl"]
    return url


def notify(aws: Aws, bucket: str, queue_url: str) -> None:
    arn = aws.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}],
    })


def drain(aws: Aws, queue_url: str, polls: int = 6) -> int:
    handled = 0
    for _ in range(polls):
        handled += runner.poll_once(aws.sqs, queue_url, wait_seconds=1)
    return handled


def queue_depth(aws: Aws, queue_url: str) -> int:
    attrs = aws.sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_notification_to_processed_result(aws: Aws, bucket: str) -> None:
    queue_url = make_queue(aws)
    notify(aws, bucket, queue_url)  # moto, like S3, first sends an s3:TestEvent
    aws.s3.put_object(Bucket=bucket, Key="uploads/u-9/notes 1.txt", Body=b"one two\nthree\n")

    handled = drain(aws, queue_url)

    assert handled == 2  # the test event and the upload
    doc = json.loads(aws.s3.get_object(Bucket=bucket, Key="processed/u-9/notes 1.txt.json")["Body"].read())
    assert (doc["status"], doc["lines"], doc["words"]) == ("ok", 2, 3)
    assert queue_depth(aws, queue_url) == 0


def test_poison_messages_are_dropped_not_looped(aws: Aws, bucket: str) -> None:
    queue_url = make_queue(aws, visibility=0)  # failed messages come straight back
    aws.sqs.send_message(QueueUrl=queue_url, MessageBody="this is not json")
    missing_bucket = {"Records": [{"s3": {"bucket": {"name": f"nope-{uuid.uuid4().hex[:6]}"},
                                          "object": {"key": "uploads/u/x.txt"}}}]}
    aws.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(missing_bucket))

    received = drain(aws, queue_url, polls=runner.MAX_RECEIVES + 4)

    # the garbage once; the failing event MAX_RECEIVES times, then dropped
    assert received == 1 + runner.MAX_RECEIVES
    assert queue_depth(aws, queue_url) == 0


def test_runner_process_exits_cleanly_on_sigterm(aws: Aws, bucket: str) -> None:
    queue_url = make_queue(aws)
    notify(aws, bucket, queue_url)
    env = {**os.environ, "QUEUE_FILE_UPLOADS_URL": queue_url, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "services.file_processor"], env=env, cwd=REPO,
                            stderr=subprocess.PIPE, text=True)
    try:
        aws.s3.put_object(Bucket=bucket, Key="uploads/u-5/a.json", Body=b'{"a": 1}')
        deadline = time.monotonic() + 20
        key = "processed/u-5/a.json.json"
        while time.monotonic() < deadline:
            if aws.s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the runner did not process the upload within 20 s")
        # The runner is in its next long poll now (begun under 0.3 s ago, nothing to receive): a
        # stop must not wait it out (WAIT_SECONDS), so `down` stays quick.
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=runner.WAIT_SECONDS - 2)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert code == 0, stderr
    assert "ok uploads/u-5/a.json" in stderr
    assert "stopped" in stderr


def test_runner_requires_its_queue() -> None:
    env = {k: v for k, v in os.environ.items() if k != "QUEUE_FILE_UPLOADS_URL"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "services.file_processor"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "QUEUE_FILE_UPLOADS_URL is required" in done.stderr
