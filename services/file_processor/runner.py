"""The local stand-in for the Lambda trigger: long-poll the S3 notification queue, call ``handler``.

Environment: ``QUEUE_FILE_UPLOADS_URL`` (required), ``AWS_REGION`` and the SDK-standard
``AWS_ENDPOINT_URL`` locally, ``LOG_LEVEL``. Behaviour per message:

* ``s3:TestEvent`` (sent once when the notification is configured) and unparseable bodies are
  deleted without calling the handler;
* S3 events go to ``handler.handler(event, context)``, exactly as AWS Lambda would call it, and the
  message is deleted when the handler returns;
* when the handler raises (S3 unavailable) the message stays and comes back after the queue's
  visibility timeout; after ``MAX_RECEIVES`` deliveries it is dropped with an error log, the local
  equivalent of Lambda's bounded retries + dead-letter: a poison message never loops forever.

With ``METRICS_PORT`` set, ``/metrics`` is served on 127.0.0.1 at that port: uploads processed
(by outcome), handler failures, and the delay from the upload (the S3 event's time) to its
processed result.

SIGTERM/SIGINT finish the current batch and exit 0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import boto3
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

from services.file_processor import handler as lambda_handler

log = logging.getLogger("file_processor")
MAX_RECEIVES = 5
WAIT_SECONDS = 5

REGISTRY = CollectorRegistry()
PROCESSED = Counter("uploads_processed_total", "S3 records handled, by outcome", ["status"], registry=REGISTRY)
FAILURES = Counter("upload_processing_failures_total", "handler calls that raised (retried)", registry=REGISTRY)
DELAY = Histogram("upload_processing_delay_seconds", "from the upload's S3 event to its processed result",
                  buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300), registry=REGISTRY)


@dataclass(frozen=True)
class LocalContext:
    """The few Lambda context attributes a handler may read."""

    aws_request_id: str
    function_name: str = "file-processor"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def handle_message(message: dict[str, Any]) -> str:
    """What to do with one SQS message: ``delete`` (done, or never processable) or ``retry``."""
    receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
    try:
        event = json.loads(message.get("Body") or "")
    except ValueError:
        log.error("dropping a message that is not JSON (id %s)", message.get("MessageId"))
        return "delete"
    if not isinstance(event, dict):
        log.error("dropping a message that is not an S3 event (id %s)", message.get("MessageId"))
        return "delete"
    if event.get("Event") == "s3:TestEvent":
        log.info("skipping s3:TestEvent")
        return "delete"
    try:
        result = lambda_handler.handler(event, LocalContext(aws_request_id=str(uuid.uuid4())))
    except Exception as exc:
        FAILURES.inc()
        if receives >= MAX_RECEIVES:
            log.error("giving up on message %s after %d attempts: %s",
                      message.get("MessageId"), receives, type(exc).__name__)
            return "delete"
        log.warning("handler failed (attempt %d of %d), will retry: %s",
                    receives, MAX_RECEIVES, type(exc).__name__)
        return "retry"
    _observe(event, result["results"])
    for outcome in result["results"]:
        log.info("%s %s%s", outcome["status"], outcome["source_key"],
                 f" ({outcome['reason']})" if "reason" in outcome else "")
    return "delete"


def _observe(event: dict[str, Any], results: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)
    for record in event.get("Records", []):
        try:
            uploaded = datetime.fromisoformat(str(record["eventTime"]).replace("Z", "+00:00"))
        except (KeyError, ValueError):
            continue
        DELAY.observe(max(0.0, (now - uploaded).total_seconds()))
    for outcome in results:
        PROCESSED.labels(outcome["status"]).inc()


def poll_once(sqs: Any, queue_url: str, wait_seconds: int = WAIT_SECONDS,
              handling: threading.Lock | None = None, stop: threading.Event | None = None) -> int:
    """Receive one batch and act on it; returns the number of messages received.

    ``handling`` is held while the batch is acted on; a batch received once ``stop`` is set is left
    alone (SQS delivers it again after its visibility timeout)."""
    response = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds,
        AttributeNames=["ApproximateReceiveCount"],
    )
    messages = response.get("Messages", [])
    with handling or contextlib.nullcontext():
        if stop is not None and stop.is_set():
            return 0
        for message in messages:
            if handle_message(message) == "delete":
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)


def run(queue_url: str, stop: threading.Event, wait_seconds: int = WAIT_SECONDS,
        handling: threading.Lock | None = None) -> None:
    sqs = boto3.client("sqs")
    log.info("polling %s", queue_url)
    while not stop.is_set():
        try:
            poll_once(sqs, queue_url, wait_seconds, handling, stop)
        except Exception as exc:  # SQS unreachable: back off, keep the process alive
            log.warning("polling failed: %s", type(exc).__name__)
            stop.wait(2.0)


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    queue_url = os.environ.get("QUEUE_FILE_UPLOADS_URL", "").strip()
    if not queue_url:
        print("file-processor: QUEUE_FILE_UPLOADS_URL is required", file=sys.stderr)
        return 2
    port = os.environ.get("METRICS_PORT", "").strip()
    if port:
        start_http_server(int(port), addr="127.0.0.1", registry=REGISTRY)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The polling runs on a daemon thread so that a stop does not wait out a long poll that has
    # received nothing (up to WAIT_SECONDS, most of a `down` before): the batch being acted on, if
    # any, finishes (``handling``), and the process ends.
    handling = threading.Lock()
    threading.Thread(target=run, args=(queue_url, stop, WAIT_SECONDS, handling), daemon=True,
                     name="poll").start()
    while not stop.wait(1.0):
        pass
    with handling:
        log.info("stopped")
    return 0
