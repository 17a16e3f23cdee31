"""The products service app: explicit controllers, checks and clients."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError
from litestar import Litestar
from litestar.di import Provide

from services.kit import aws
from services.kit.app import build_app, openapi_config
from services.kit.auth import caller_provider, optional_caller_provider
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.products.controllers import ProductsController
from services.products.service import ProductService
from services.products.settings import Settings
from services.products.store import ProductStore


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    store = ProductStore(aws.client("dynamodb", settings.aws.region), settings.table_products)
    service = ProductService(store, settings.cache_ttl_s)
    revocations = Revocations.of(settings.service)

    def provide_products() -> ProductService:
        return service

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[ProductsController],
        checks={"dynamodb": store.describe},
        metrics=Metrics(settings.service.name),
        dependencies={
            "products": Provide(provide_products, sync_to_thread=False),
            "caller": Provide(caller_provider(settings.service.jwt_secret, revocations), sync_to_thread=False),
            "reader": Provide(optional_caller_provider(settings.service.jwt_secret, revocations),
                              sync_to_thread=False),
        },
        openapi=openapi_config("products"),
        unavailable_on=(BotoCoreError,),
        revocations=revocations,
    )
