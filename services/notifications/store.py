"""The only module that touches the notification log, the processed-events claims and SNS.

DynamoDB goes through the kit's client (``services.kit.dynamo``); SNS through boto3.
"""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal
from typing import Any

from services.kit import aws
from services.kit.dynamo import ConditionalCheckFailed, DynamoClient, from_item, to_item
from services.notifications.schemas import Notification

_FIELDS = ("event_id", "order_id", "type", "subject", "message", "total", "currency", "occurred_at",
           "sent_at", "channel")


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

    async def claim(self, event_key: str, owner: str, lease_s: float) -> str:
        """Take ``event_key`` for sending: "claimed" (ours, for ``lease_s``), "sent" (done before) or "busy"
        (another attempt holds an unexpired lease). A claim whose holder crashed is taken over once its
        lease expired."""
        now = time.time()
        key = to_item({"event_key": event_key})
        try:
            await self.dynamodb.call("UpdateItem", {
                "TableName": self.processed_table, "Key": key,
                "UpdateExpression": "SET #state = :sending, #owner = :owner, #lease = :lease, #expires = :expires",
                "ConditionExpression": "attribute_not_exists(event_key) OR (#state = :sending AND #lease < :now)",
                "ExpressionAttributeNames": {"#state": "state", "#owner": "owner", "#lease": "lease_until",
                                             "#expires": "expires_at"},
                "ExpressionAttributeValues": to_item({
                    ":sending": "sending", ":owner": owner, ":lease": Decimal(f"{now + lease_s:.3f}"),
                    ":now": Decimal(f"{now:.3f}"), ":expires": int(now) + self.processed_ttl_s,
                }),
            })
        except ConditionalCheckFailed:
            answer = await self.dynamodb.call("GetItem", {
                "TableName": self.processed_table, "Key": key, "ConsistentRead": True,
            })
            state = from_item(answer.get("Item", {})).get("state", "sent")  # no state: marked by an older release
            return "busy" if state == "sending" else "sent"
        return "claimed"

    async def mark_sent(self, event_key: str, owner: str) -> None:
        """Record that ``owner``'s claim was published (nothing, when another attempt took the claim over)."""
        with contextlib.suppress(ConditionalCheckFailed):
            await self.dynamodb.call("UpdateItem", {
                "TableName": self.processed_table, "Key": to_item({"event_key": event_key}),
                "UpdateExpression": "SET #state = :sent",
                "ConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#state": "state", "#owner": "owner"},
                "ExpressionAttributeValues": to_item({":sent": "sent", ":owner": owner}),
            })

    async def publish(self, subject: str, message: str, attributes: dict[str, str]) -> str:
        answer = await aws.call(
            self.sns.publish, TopicArn=self.topic_arn, Subject=subject, Message=message,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
        return str(answer.get("MessageId", ""))

    async def record(self, user_id: str, notification: Notification) -> None:
        """Write the log entry once (a redelivered event finds it there)."""
        values = {"user_id": user_id, "notification_id": notification.notification_id}
        values.update({f: getattr(notification, f) for f in _FIELDS})
        with contextlib.suppress(ConditionalCheckFailed):
            await self.dynamodb.call("PutItem", {
                "TableName": self.table, "Item": to_item(values),
                "ConditionExpression": "attribute_not_exists(notification_id)",
            })

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
