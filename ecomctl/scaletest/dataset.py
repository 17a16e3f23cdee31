"""The data a scale test runs on, created idempotently through the public API.

- **Shoppers**: ``scale-shopper-NNNN@scale-test.example`` accounts, as many as the profile's peak
  of logged-in users (at most :data:`MAX_SHOPPERS`; beyond that users share accounts). Their
  password is derived from the stack's admin password, so it is stable per stack and known to no
  one else.
- **Catalogue**: :data:`PRODUCTS` products in category ``scale-…`` with stock enough for any
  run: the orders go to them, so a long run never sells the shop's own catalogue out. Browsing
  and search cover the whole catalogue (the sample catalogue included), so caches see a real
  working set.

A second run creates nothing twice: existing products are found by category and name, and an
account that exists answers 409.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from ecomctl.demo.catalogue import SAMPLE_CATALOGUE, SampleProduct
from ecomctl.demo.seed import seed_catalogue
from ecomctl.errors import DemoError, ScaleTestError

MAX_SHOPPERS = 250
PRODUCTS = 100
STOCK = 10_000_000
_KINDS = {
    "scale-outdoor": ("Trail", ("tent", "backpack", "headlamp", "water filter", "camp stove")),
    "scale-kitchen": ("Copper", ("saucepan", "kettle", "chef's knife", "cutting board", "pepper mill")),
    "scale-audio": ("Studio", ("headphones", "speaker", "turntable", "microphone", "amplifier")),
    "scale-garden": ("Cedar", ("planter", "watering can", "pruning shears", "seed tray", "bird feeder")),
}
_FINISHES = ("classic", "compact", "deluxe", "travel", "pro")
WORDS = ("tent", "kettle", "speaker", "planter", "knife", "lamp", "copper", "trail", "studio", "cedar")


@dataclass(frozen=True)
class Dataset:
    admin: tuple[str, str]
    shoppers: list[tuple[str, str]]
    order_products: list[str]
    browse_products: list[str]
    categories: list[str]

    def as_config(self) -> dict[str, Any]:
        return {"admin": list(self.admin), "shoppers": [list(s) for s in self.shoppers],
                "order_products": self.order_products, "browse_products": self.browse_products,
                "categories": self.categories, "words": list(WORDS)}


def scale_products() -> tuple[SampleProduct, ...]:
    """The products the run's orders go to: four ``scale-*`` categories, stock enough for any run."""
    items = []
    for (category, (brand, things)), finish in itertools.product(_KINDS.items(), _FINISHES):
        for thing in things:
            name = f"{brand} {thing}, {finish}"
            price = 12 + (sum(map(ord, name)) % 180) + 0.99
            items.append(SampleProduct(name, f"{price:.2f}", category,
                                       f"A {finish} {thing} from the {brand} range, for scale tests.", STOCK))
    return tuple(items[:PRODUCTS])


def shopper_password(admin_password: str, index: int) -> str:
    return hmac.new(admin_password.encode(), f"scale-shopper-{index}".encode(), hashlib.sha256).hexdigest()[:24]


def _check(answer: httpx.Response, what: str, ok: tuple[int, ...] = (200, 201)) -> httpx.Response:
    if answer.status_code not in ok:
        raise ScaleTestError(f"{what}: HTTP {answer.status_code} {answer.text[:200]}")
    return answer


def _all_pages(api: httpx.Client, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = _check(api.get(path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})}),
                      f"GET {path}").json()
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def prepare(url: str, admin: tuple[str, str], shoppers: int, progress: Callable[[str], None]) -> Dataset:
    """Create what is missing (catalogue, shopper accounts) and return the run's dataset."""
    wanted = scale_products()
    try:
        seeded = seed_catalogue(url, *admin, products=SAMPLE_CATALOGUE + wanted)  # the one seeding path
    except DemoError as exc:
        raise ScaleTestError(exc.message, hint=exc.hint) from None
    if seeded.created:
        progress(f"created {seeded.created} products (the sample catalogue and the scale-test products)")
    with httpx.Client(base_url=url, timeout=30) as api:
        have = {(p["category"], p["name"]): p["product_id"]
                for category in _KINDS for p in _all_pages(api, "/api/products", {"category": category})}
        order_products = [have[(p.category, p.name)] for p in wanted]
        catalogue = _all_pages(api, "/api/products", {})
        browse = [p["product_id"] for p in catalogue]
        categories = sorted({p.get("category") or "" for p in catalogue} - {""})

    accounts = [(f"scale-shopper-{i:04d}@scale-test.example", shopper_password(admin[1], i))
                for i in range(max(1, min(shoppers, MAX_SHOPPERS)))]
    progress(f"making sure {len(accounts)} shopper accounts exist")

    def register(account: tuple[str, str]) -> None:
        with httpx.Client(base_url=url, timeout=60) as api:
            name = account[0].split("@")[0].replace("-", " ").title()
            answer = api.post("/api/users", json={"name": name, "email": account[0], "password": account[1]})
            _check(answer, f"register {account[0]}", ok=(201, 409))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(register, accounts))
    return Dataset(admin, accounts, order_products, browse or order_products, categories or list(_KINDS))
