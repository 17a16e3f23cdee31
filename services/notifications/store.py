"""The only module that touches the notification log, the processed-events claims and SNS.

DynamoDB goes through the kit's client (``services.kit.dynamo``); SNS through boto3. Every write
handles a batch of events, in transactions: DynamoDB Local (the local stack's store) spends its
CPU per request and per item written, and an item costs it less than half in a
``TransactWriteItems`` than alone, and no more than in a ``BatchWriteItem``, which cannot be
conditional and may leave items unprocessed. Measured there (WAL mode, warm, rounds of 100
items, ms of its CPU per item): a conditional ``UpdateItem`` 0.65, ``PutItem`` 0.53,
``BatchWriteItem`` of 25 puts 0.26, ``TransactWriteItems`` of 100 conditional updates 0.29, of
100 puts 0.24 (with the rollback journal: 1.07, 0.90, 0.52, 0.31, 0.24). On DynamoDB itself a
transactional write costs two write units instead of one: a few more per order, for writing
each claim and its log entry together.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.kit import aws
from services.kit.dynamo import DynamoClient, DynamoError, TransactionCanceled, from_item, to_item
from services.kit.errors import Unavailable
from services.notifications.schemas import Notification

_FIELDS = ("event_id", "order_id", "type", "subject", "message", "total", "currency", "occurred_at",
           "sent_at", "channel")
CLAIMS_PER_TRANSACTION = 50  # a claim and a log entry each: DynamoDB's limit is 100 actions
MARKS_PER_TRANSACTION = 100
PUBLISH_BATCH = 10  # SNS PublishBatch's limit
ATTEMPTS = 4  # of a transaction cancelled by a conflict, of a PublishBatch entry that failed (not our fault)


@dataclass(frozen=True)
class Outgoing:
    """One event's notification: its claim's key, its log entry, its SNS message."""

    event_key: str
    user_id: str
    notification: Notification
    message: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Published:
    """What a ``publish`` did: the messages SNS accepted, and why the others were not."""

    sent: list[Outgoing] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # event_key -> reason


class NotificationStore:
    def __init__(self, dynamodb: DynamoClient, sns: Any, table: str, processed_table: str, topic_arn: str,
                 processed_ttl_s: int) -> None:
        self.dynamodb = dynamodb
        self.sns = sns
        self.table = table
        self.processed_table = processed_table
        self.topic_arn = topic_arn
        self.processed_ttl_s = processed_ttl_s

    async def check_tables(self) -> None:
        await self.dynamodb.call("DescribeTable", {"TableName": self.table})
        await self.dynamodb.call("DescribeTable", {"TableName": self.processed_table})

    async def check_topic(self) -> None:
        await aws.call(self.sns.get_topic_attributes, TopicArn=self.topic_arn)

    async def claim(self, outgoing: Sequence[Outgoing], owner: str, lease_s: float) -> dict[str, str]:
        """Take each event for sending and write its log entry: event_key -> "claimed" (ours, for
        ``lease_s``, its log entry written), "sent" (done before) or "busy" (another attempt holds
        an unexpired lease). A claim whose holder crashed is taken over once its lease expired.

        One transaction per 50 events, each a conditional claim and the log entry (written again,
        the same, by an attempt that takes a dead one's claim over): the claim and the entry are
        written together or not at all. A claim that fails its condition cancels the transaction,
        which is then written again without it (DynamoDB returns the item that failed)."""
        chunks = [outgoing[i:i + CLAIMS_PER_TRANSACTION] for i in range(0, len(outgoing), CLAIMS_PER_TRANSACTION)]
        states: dict[str, str] = {}
        for answer in await asyncio.gather(*(self._claim_chunk(chunk, owner, lease_s) for chunk in chunks)):
            states.update(answer)
        return states

    async def _claim_chunk(self, chunk: Sequence[Outgoing], owner: str, lease_s: float) -> dict[str, str]:
        states: dict[str, str] = {}
        pending = list(chunk)
        for attempt in range(ATTEMPTS):
            if not pending:
                return states
            now = time.time()
            actions = [self._claim_action(o.event_key, owner, now, lease_s) for o in pending]
            actions += [{"Put": {"TableName": self.table, "Item": self._entry(o)}} for o in pending]
            try:
                await self.dynamodb.call("TransactWriteItems", {"TransactItems": actions})
            except TransactionCanceled as exc:
                reasons = exc.reasons + [{}] * (len(actions) - len(exc.reasons))
                again, conflicted = [], False
                for o, reason in zip(pending, reasons, strict=False):
                    code = reason.get("Code") or "None"
                    if code == "ConditionalCheckFailed":
                        state = await self._holder_state(o.event_key, reason.get("Item"), owner, now)
                        if state == "retry":
                            again.append(o)
                        else:
                            states[o.event_key] = state
                    else:  # "None": cancelled for another action's sake; else a conflict or throttling
                        again.append(o)
                        conflicted = conflicted or code != "None"
                conflicted = conflicted or any((r.get("Code") or "None") != "None" for r in reasons[len(pending):])
                pending = again
                if conflicted:
                    await asyncio.sleep(0.05 * 2 ** attempt)
                continue
            states.update({o.event_key: "claimed" for o in pending})
            return states
        if pending:
            raise Unavailable("the notification claims could not be written (conflicting writes)")
        return states

    def _claim_action(self, event_key: str, owner: str, now: float, lease_s: float) -> dict[str, Any]:
        return {"Update": {
            "TableName": self.processed_table, "Key": to_item({"event_key": event_key}),
            "UpdateExpression": "SET #state = :sending, #owner = :owner, #lease = :lease, #expires = :expires",
            "ConditionExpression": "attribute_not_exists(event_key) OR (#state = :sending AND #lease < :now)",
            "ExpressionAttributeNames": {"#state": "state", "#owner": "owner", "#lease": "lease_until",
                                         "#expires": "expires_at"},
            "ExpressionAttributeValues": to_item({
                ":sending": "sending", ":owner": owner, ":lease": Decimal(f"{now + lease_s:.3f}"),
                ":now": Decimal(f"{now:.3f}"), ":expires": int(now) + self.processed_ttl_s,
            }),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }}

    async def _holder_state(self, event_key: str, item: dict[str, Any] | None, owner: str, now: float) -> str:
        """Why a claim failed its condition, from the item that failed it: "sent", "busy", "claimed"
        (ours: a retried request whose first answer was lost) or "retry" (the lease ran out since)."""
        if item is None:  # an endpoint that does not return it: read it
            answer = await self.dynamodb.call("GetItem", {
                "TableName": self.processed_table, "Key": to_item({"event_key": event_key}), "ConsistentRead": True,
            })
            item = answer.get("Item")
            if item is None:
                return "retry"  # gone meanwhile (expired)
        values = from_item(item)
        if values.get("state", "sent") != "sending":  # no state: marked by an older release
            return "sent"
        if values.get("owner") == owner:
            return "claimed"
        return "busy" if float(values.get("lease_until", 0)) >= now else "retry"

    def _entry(self, o: Outgoing) -> dict[str, Any]:
        values = {"user_id": o.user_id, "notification_id": o.notification.notification_id}
        values.update({f: getattr(o.notification, f) for f in _FIELDS})
        return to_item(values)

    async def mark_sent(self, event_keys: Sequence[str], owner: str) -> None:
        """Record that these events were published: "sent" ends every later delivery of them.

        Not conditional on the claim's owner: the events were published, whoever holds the claim
        now (an attempt that took an expired claim over publishes too: the lease's window)."""
        expires = int(time.time()) + self.processed_ttl_s
        for start in range(0, len(event_keys), MARKS_PER_TRANSACTION):
            actions = [{"Put": {"TableName": self.processed_table, "Item": to_item(
                {"event_key": key, "state": "sent", "owner": owner, "expires_at": expires})}}
                for key in event_keys[start:start + MARKS_PER_TRANSACTION]]
            await self._transact(actions)

    async def release(self, event_keys: Sequence[str], owner: str) -> None:
        """End ``owner``'s leases on events it did not publish, so a redelivery need not wait them out
        (best effort: a lease left in place runs out by itself)."""
        for start in range(0, len(event_keys), MARKS_PER_TRANSACTION):
            actions = [{"Update": {
                "TableName": self.processed_table, "Key": to_item({"event_key": key}),
                "UpdateExpression": "SET #lease = :zero", "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#lease": "lease_until", "#owner": "owner"},
                "ExpressionAttributeValues": to_item({":zero": 0, ":owner": owner}),
            }} for key in event_keys[start:start + MARKS_PER_TRANSACTION]]
            with contextlib.suppress(DynamoError, Unavailable):
                await self.dynamodb.call("TransactWriteItems", {"TransactItems": actions})

    async def _transact(self, actions: list[dict[str, Any]]) -> None:
        """Write unconditional ``actions`` in one transaction, again when a conflict cancelled it."""
        for attempt in range(ATTEMPTS):
            try:
                await self.dynamodb.call("TransactWriteItems", {"TransactItems": actions})
                return
            except TransactionCanceled:
                await asyncio.sleep(0.05 * 2 ** attempt)
        raise Unavailable("the notifications could not be marked sent (conflicting writes)")

    async def publish(self, outgoing: Sequence[Outgoing]) -> Published:
        """Publish every message with SNS ``PublishBatch``, 10 per request, the requests at once.

        Entries SNS failed for its own reasons are sent again (up to 4 attempts); an entry it refused
        (``SenderFault``) or a request that failed as a whole is reported in ``failed``. Measured
        against the local stack's AWS API server (1,000 messages each way), CPU per message:
        ``Publish`` 1.14 ms in the worker (boto3) and 1.94 ms in the server; ``PublishBatch`` of
        10: 0.21 ms and 0.39 ms."""
        chunks = [outgoing[i:i + PUBLISH_BATCH] for i in range(0, len(outgoing), PUBLISH_BATCH)]
        result = Published()
        for sent, failed in await asyncio.gather(*(self._publish_chunk(chunk) for chunk in chunks)):
            result.sent += sent
            result.failed.update(failed)
        return result

    async def _publish_chunk(self, chunk: Sequence[Outgoing]) -> tuple[list[Outgoing], dict[str, str]]:
        pending = {str(n): o for n, o in enumerate(chunk)}
        sent: list[Outgoing] = []
        failed: dict[str, str] = {}
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(0.1 * 2 ** attempt)
            entries = [{"Id": entry_id, "Subject": o.notification.subject, "Message": o.message,
                        "MessageAttributes": {k: {"DataType": "String", "StringValue": v}
                                              for k, v in o.attributes.items()}}
                       for entry_id, o in pending.items()]
            try:
                answer = await aws.call(self.sns.publish_batch, TopicArn=self.topic_arn,
                                        PublishBatchRequestEntries=entries)
            except Exception as exc:  # the whole request: SNS may or may not have taken its messages
                failed.update({o.event_key: f"PublishBatch failed ({type(exc).__name__})" for o in pending.values()})
                return sent, failed
            sent += [pending.pop(entry["Id"]) for entry in answer.get("Successful", []) if entry.get("Id") in pending]
            for entry in answer.get("Failed", []):
                if entry.get("SenderFault") and entry.get("Id") in pending:
                    failed[pending.pop(entry["Id"]).event_key] = f"refused: {entry.get('Code')}: {entry.get('Message')}"
            if not pending:
                return sent, failed
        failed.update({o.event_key: "SNS failed it (not our fault) 4 times" for o in pending.values()})
        return sent, failed

    async def page(self, user_id: str, limit: int, after: str | None) -> tuple[list[Notification], str | None]:
        request: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "user_id = :u",
            "ExpressionAttributeValues": to_item({":u": user_id}), "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = to_item({"user_id": user_id, "notification_id": after})
        answer = await self.dynamodb.call("Query", request)
        items = []
        for item in answer.get("Items", []):
            values = from_item(item)
            items.append(Notification(notification_id=values["notification_id"],
                                      **{f: str(values.get(f, "")) for f in _FIELDS}))
        last = answer.get("LastEvaluatedKey")
        return items, (from_item(last)["notification_id"] if last else None)
