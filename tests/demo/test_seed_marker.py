"""The seeding decision of a new stack, and the sample catalogue's shape (no stack needed)."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import msgspec

from ecomctl.demo.catalogue import SAMPLE_CATALOGUE, SAMPLE_CATEGORIES
from ecomctl.demo.seed import MARKER, seed_new_stack
from services.products.schemas import ProductCreate


def test_no_sample_data_is_remembered_and_nothing_is_called(tmp_path: Path) -> None:
    # An unreachable gateway: any attempt to seed would raise.
    assert seed_new_stack(tmp_path, "http://127.0.0.1:9", "admin@x.example", "pw", skip=True) is None
    assert json.loads((tmp_path / MARKER).read_text())["seeded"] is False
    # A later `up` of the same stack does not seed either (the decision is kept until --purge).
    assert seed_new_stack(tmp_path, "http://127.0.0.1:9", "admin@x.example", "pw") is None


def test_sample_catalogue_is_big_enough_and_valid_for_the_api() -> None:
    assert len(SAMPLE_CATALOGUE) >= 60 and len(SAMPLE_CATEGORIES) >= 6
    assert len({(p.category, p.name) for p in SAMPLE_CATALOGUE}) == len(SAMPLE_CATALOGUE)
    for product in SAMPLE_CATALOGUE:
        body = msgspec.convert(dataclasses.asdict(product), ProductCreate)  # raises on what the API refuses
        assert Decimal(body.price) > 0 and body.stock > 0 and len(body.description) > 20
