"""Thin HTTP handlers of the analytics API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.analytics.schemas import Summary, TopProducts, TopUsers, WindowPage
from services.analytics.service import AnalyticsService
from services.kit.app import SECURITY
from services.kit.auth import Caller
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
TopLimit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
PUBLIC_MAX_WINDOWS = 60  # the public routes read one item per window and product: bounded to an hour
Windows = Annotated[int | None, Parameter(ge=1, le=1440, description="how many recent windows")]
PublicWindows = Annotated[int | None, Parameter(ge=1, le=PUBLIC_MAX_WINDOWS,
                                                description="how many recent windows (at most an hour)")]


CallerDep = NamedDependency[Caller]
AnalyticsDep = NamedDependency[AnalyticsService]

class AnalyticsController(Controller):
    path = "/api/analytics"
    tags = ["analytics"]  # noqa: RUF012

    @get("/windows", summary="Recent 1-minute windows, newest first")
    async def windows(
        self, analytics: AnalyticsDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> WindowPage:
        return await analytics.windows(limit, cursor)

    @get("/summary", summary="Totals over recent windows, the latest window, the stream's lag")
    async def summary(self, analytics: AnalyticsDep, windows: PublicWindows = None) -> Summary:
        return await analytics.summary(windows)

    @get("/top-products", summary="Best-selling products over recent windows")
    async def top_products(
        self, analytics: AnalyticsDep, limit: TopLimit = 10, windows: PublicWindows = None
    ) -> TopProducts:
        return await analytics.top_products(limit, windows)

    @get("/flink/top-users", security=SECURITY, summary="Top buyers over recent windows (admin)")
    async def top_users(
        self, caller: CallerDep, analytics: AnalyticsDep, limit: TopLimit = 10, windows: Windows = None
    ) -> TopUsers:
        return await analytics.top_users(caller, limit, windows)
