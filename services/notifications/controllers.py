"""Thin HTTP handlers of the notifications API (bound to the app's service by ``notifications_controller``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Callers
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.notifications.schemas import NotificationPage
from services.notifications.service import NotificationService

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
AnyRequest = Request[Any, Any, Any]


def notifications_controller(notifications: NotificationService, callers: Callers) -> type[Controller]:
    class NotificationsController(Controller):
        path = "/api/notifications"
        tags = ["notifications"]  # noqa: RUF012

        @get("/", security=SECURITY, summary="Notifications sent for the caller's orders, newest first")
        async def list_notifications(
            self, request: AnyRequest, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
        ) -> NotificationPage:
            return await notifications.page(callers.of(request), limit, cursor)

    return NotificationsController
