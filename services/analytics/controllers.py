"""Thin HTTP handlers of the analytics API (bound to the app's service by ``analytics_controller``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from services.analytics.schemas import Summary, TopProducts, TopUsers, WindowPage
from services.analytics.service import AnalyticsService
from services.kit.app import SECURITY
from services.kit.auth import Callers
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
TopLimit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
PUBLIC_MAX_WINDOWS = 60  # the public routes read one item per window and product: bounded to an hour
Windows = Annotated[int | None, Parameter(ge=1, le=1440, description="how many recent windows")]
PublicWindows = Annotated[int | None, Parameter(ge=1, le=PUBLIC_MAX_WINDOWS,
                                                description="how many recent windows (at most an hour)")]
AnyRequest = Request[Any, Any, Any]


def analytics_controller(analytics: AnalyticsService, callers: Callers) -> type[Controller]:
    class AnalyticsController(Controller):
        path = "/api/analytics"
        tags = ["analytics"]  # noqa: RUF012

        @get("/windows", summary="Recent 1-minute windows, newest first")
        async def windows(self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> WindowPage:
            return await analytics.windows(limit, cursor)

        @get("/summary", summary="Totals over recent windows, the latest window, the stream's lag")
        async def summary(self, windows: PublicWindows = None) -> Summary:
            return await analytics.summary(windows)

        @get("/top-products", summary="Best-selling products over recent windows")
        async def top_products(self, limit: TopLimit = 10, windows: PublicWindows = None) -> TopProducts:
            return await analytics.top_products(limit, windows)

        @get("/flink/top-users", security=SECURITY, summary="Top buyers over recent windows (admin)")
        async def top_users(self, request: AnyRequest, limit: TopLimit = 10, windows: Windows = None) -> TopUsers:
            return await analytics.top_users(callers.of(request), limit, windows)

    return AnalyticsController
