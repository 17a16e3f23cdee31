"""Thin HTTP handlers of the catalogue API (bound to the app's service by ``products_controller``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Callers
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.products.schemas import Product, ProductCreate, ProductPage, ProductUpdate
from services.products.service import ProductService

ProductId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
Query = Annotated[str | None, Parameter(max_length=200, description="text search on name and description")]
CategoryFilter = Annotated[str | None, Parameter(min_length=1, max_length=64)]
AnyRequest = Request[Any, Any, Any]


def products_controller(products: ProductService, callers: Callers) -> type[Controller]:
    """A signed-in reader (a valid token) reads fresh: read-your-writes; a bad token is a 401."""

    class ProductsController(Controller):
        path = "/api/products"
        tags = ["products"]  # noqa: RUF012

        @get("/", summary="The catalogue (search, category filter, pages)")
        async def list_products(
            self, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None, q: Query = None,
            category: CategoryFilter = None, *, request: AnyRequest,
        ) -> ProductPage:
            fresh = callers.optional(request) is not None
            return await products.page(limit, cursor, q, category, fresh=fresh)

        @get("/{product_id:str}", summary="One product")
        async def get_product(self, request: AnyRequest, product_id: ProductId) -> Product:
            return await products.get(product_id, fresh=callers.optional(request) is not None)

        @post("/", status_code=201, security=SECURITY, summary="Create a product (admin)")
        async def create_product(self, request: AnyRequest, data: ProductCreate) -> Product:
            return await products.create(callers.of(request), data)

        @patch("/{product_id:str}", security=SECURITY, summary="Update a product (admin)")
        async def update_product(self, request: AnyRequest, product_id: ProductId, data: ProductUpdate) -> Product:
            return await products.update(callers.of(request), product_id, data)

        @delete("/{product_id:str}", status_code=204, security=SECURITY, summary="Delete a product (admin)")
        async def delete_product(self, request: AnyRequest, product_id: ProductId) -> None:
            await products.delete(callers.of(request), product_id)

    return ProductsController
