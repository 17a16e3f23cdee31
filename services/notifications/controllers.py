"""Thin HTTP handlers of the notifications API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Caller
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.notifications.schemas import NotificationPage
from services.notifications.service import NotificationService

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]


CallerDep = NamedDependency[Caller]
NotificationDep = NamedDependency[NotificationService]

class NotificationsController(Controller):
    path = "/api/notifications"
    tags = ["notifications"]  # noqa: RUF012

    @get("/", security=SECURITY, summary="Notifications sent for the caller's orders, newest first")
    async def list_notifications(
        self, caller: CallerDep, notifications: NotificationDep, limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> NotificationPage:
        return await notifications.page(caller, limit, cursor)
