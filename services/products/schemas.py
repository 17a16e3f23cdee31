"""Request and response bodies of the catalogue API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=2000)]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")]
Price = Annotated[
    str, msgspec.Meta(pattern=r"^[0-9]{1,7}(\.[0-9]{1,2})?$", description="decimal string, e.g. \"19.99\"")
]
Stock = Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]

DEFAULT_CATEGORY = "general"


class ProductCreate(msgspec.Struct):
    name: Name
    price: Price
    stock: Stock = 0
    category: Category = DEFAULT_CATEGORY
    description: Description = ""


class ProductUpdate(msgspec.Struct):
    name: Name | UnsetType = UNSET
    price: Price | UnsetType = UNSET
    stock: Stock | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    description: Description | UnsetType = UNSET


class Product(msgspec.Struct):
    product_id: str
    name: str
    description: str
    price: str
    currency: str
    stock: int
    category: str
    created_at: str
    updated_at: str


class ProductPage(msgspec.Struct):
    items: list[Product]
    next_cursor: str | None
