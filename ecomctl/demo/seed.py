"""Seeding the sample catalogue through the public API: idempotent, on any stack.

A product counts as present when its category already holds a product of the same name, so a
second run (or a run against a shop that has some of them) creates nothing twice. A new local
stack is seeded once, after its first ``up``: a marker in the stack's state directory records
that it was seeded (or that ``--no-sample-data`` declined it), and ``down --purge`` deletes it
with the rest of the state.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from ecomctl.demo.catalogue import SAMPLE_CATALOGUE, SAMPLE_CATEGORIES, SampleProduct
from ecomctl.demo.client import ApiError, ShopClient
from ecomctl.errors import DemoError

MARKER = "sample-data.json"


@dataclass(frozen=True)
class SeedResult:
    created: int
    present: int

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "present": self.present}


async def ensure_catalogue(client: ShopClient, admin_token: str,
                           products: tuple[SampleProduct, ...] = SAMPLE_CATALOGUE) -> SeedResult:
    """Create every sample product the shop does not have yet."""
    existing: set[tuple[str, str]] = set()
    for category in dict.fromkeys(p.category for p in products):
        existing |= {(category, p["name"]) for p in await client.products("seed", category=category)}
    missing = [p for p in products if (p.category, p.name) not in existing]
    for product in missing:
        await client.call("seed", "POST", "/api/products", token=admin_token, expect=(201,), json={
            "name": product.name, "price": product.price, "stock": product.stock,
            "category": product.category, "description": product.description})
    return SeedResult(created=len(missing), present=len(products) - len(missing))


def seed_catalogue(gateway_url: str, admin_email: str, admin_password: str,
                   products: tuple[SampleProduct, ...] = SAMPLE_CATALOGUE) -> SeedResult:
    """Seed the sample catalogue (or ``products``) into the shop at ``gateway_url`` (blocking)."""

    async def run() -> SeedResult:
        client = ShopClient(gateway_url, lambda group, seconds, error: None)
        try:
            token = await client.login(admin_email, admin_password)
            return await ensure_catalogue(client, token, products)
        except ApiError as exc:
            raise DemoError(f"could not seed the sample catalogue ({exc})",
                            hint="ecomctl status; ecomctl logs api-gateway") from None
        finally:
            await client.aclose()

    return asyncio.run(run())


def seed_new_stack(state_root: Path, gateway_url: str, admin_email: str, admin_password: str,
                   skip: bool = False) -> SeedResult | None:
    """Seed a stack that was never seeded (nor declined); None when nothing was to be done."""
    marker = state_root / MARKER
    if marker.exists():
        return None
    result = None if skip else seed_catalogue(gateway_url, admin_email, admin_password)
    decision = {"seeded": result is not None, "categories": list(SAMPLE_CATEGORIES),
                **(result.as_dict() if result else {})}
    marker.write_text(json.dumps(decision) + "\n")
    return result
