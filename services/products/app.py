"""The products service app: explicit controllers, checks and clients."""

from __future__ import annotations

from litestar import Litestar

from services.kit.app import build_app, openapi_config
from services.kit.auth import Callers
from services.kit.dynamo import DynamoClient
from services.kit.metrics import Metrics
from services.kit.revocations import Revocations
from services.products.controllers import products_controller
from services.products.service import ProductService
from services.products.settings import Settings
from services.products.store import ProductStore


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    store = ProductStore(DynamoClient(settings.aws.region), settings.table_products)
    service = ProductService(store, settings.cache_ttl_s)
    revocations = Revocations.of(settings.service)

    return build_app(
        service=settings.service.name,
        log_level=settings.service.log_level,
        handlers=[products_controller(service, Callers(settings.service.jwt_secret, revocations))],
        checks={"dynamodb": store.describe},
        lifespan=[store.dynamo.lifespan],
        metrics=Metrics(settings.service.name),
        openapi=openapi_config("products"),
        revocations=revocations,
    )
