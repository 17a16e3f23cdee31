"""The users service app: explicit controllers, checks and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from asyncmy.errors import InterfaceError, OperationalError
from litestar import Litestar

from services.kit import mysql
from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.dynamo import DynamoError
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.users.controllers import users_controllers
from services.users.service import UserService
from services.users.settings import Settings
from services.users.store import UserStore

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    metrics = Metrics(settings.service.name)
    revocations = Revocations.of(settings.service)
    holder: dict[str, UserService] = {}

    @asynccontextmanager
    async def database(_: Litestar) -> AsyncIterator[None]:
        pool = await mysql.create_pool(settings.mysql)
        try:
            await mysql.migrate(pool, MIGRATIONS)
            service = UserService(UserStore(pool), settings.service.jwt_secret, settings.token_ttl_s, revocations)
            await service.seed_admin(settings.admin_email, settings.admin_password)
            holder["service"] = service
            yield
        finally:
            await mysql.close_pool(pool)

    async def check_mysql() -> None:
        await mysql.ping(holder["service"].store.pool)

    def service() -> UserService:
        return holder["service"]

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=users_controllers(service, Callers(settings.service.jwt_secret, revocations)),
        checks={"mysql": check_mysql},
        metrics=metrics,
        lifespan=[database],
        openapi=openapi_config("users"),
        unavailable_on=(OperationalError, InterfaceError, OSError, DynamoError),
        revocations=revocations,
    )
