"""Thin HTTP handlers of the catalogue API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Caller
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.products.schemas import Product, ProductCreate, ProductPage, ProductUpdate
from services.products.service import ProductService

ProductId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
Query = Annotated[str | None, Parameter(max_length=200, description="text search on name and description")]
CategoryFilter = Annotated[str | None, Parameter(min_length=1, max_length=64)]


CallerDep = NamedDependency[Caller]
ReaderDep = NamedDependency[Caller | None]  # a signed-in reader reads fresh (read-your-writes)
ProductDep = NamedDependency[ProductService]

class ProductsController(Controller):
    path = "/api/products"
    tags = ["products"]  # noqa: RUF012

    @get("/", summary="The catalogue (search, category filter, pages)")
    async def list_products(
        self, products: ProductDep, reader: ReaderDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
        q: Query = None, category: CategoryFilter = None,
    ) -> ProductPage:
        return await products.page(limit, cursor, q, category, fresh=reader is not None)

    @get("/{product_id:str}", summary="One product")
    async def get_product(self, product_id: ProductId, products: ProductDep, reader: ReaderDep) -> Product:
        return await products.get(product_id, fresh=reader is not None)

    @post("/", status_code=201, security=SECURITY, summary="Create a product (admin)")
    async def create_product(self, data: ProductCreate, caller: CallerDep, products: ProductDep) -> Product:
        return await products.create(caller, data)

    @patch("/{product_id:str}", security=SECURITY, summary="Update a product (admin)")
    async def update_product(
        self, product_id: ProductId, data: ProductUpdate, caller: CallerDep, products: ProductDep
    ) -> Product:
        return await products.update(caller, product_id, data)

    @delete("/{product_id:str}", status_code=204, security=SECURITY, summary="Delete a product (admin)")
    async def delete_product(self, product_id: ProductId, caller: CallerDep, products: ProductDep) -> None:
        await products.delete(caller, product_id)
