"""The first CLI ``up`` of a stack seeds the sample catalogue once; the storefront shows it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from ecomctl.demo.catalogue import SAMPLE_CATALOGUE, SAMPLE_CATEGORIES
from ecomctl.demo.seed import MARKER
from tests.conftest import run_ecomctl

pytestmark = [pytest.mark.browser, pytest.mark.platform, pytest.mark.slow]


def sample_names(gateway: str) -> list[tuple[str, str]]:
    """(category, name) of every product in the sample categories, all pages."""
    found: list[tuple[str, str]] = []
    for category in SAMPLE_CATEGORIES:
        cursor = None
        while True:
            params: dict[str, Any] = {"category": category, "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = httpx.get(f"{gateway}/api/products", params=params, timeout=15).json()
            found += [(category, p["name"]) for p in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    return found


@pytest.mark.timeout(600)
def test_first_up_seeds_once_and_the_storefront_shows_it(
    platform: Any, platform_environ: dict[str, str], shopper_page: Page
) -> None:
    marker = platform.layout.root / MARKER
    marker.unlink(missing_ok=True)  # the session stack was started without the CLI: never seeded by `up`

    first = run_ecomctl(["up"], platform_environ)
    assert first.returncode == 0, first.stderr
    assert json.loads(marker.read_text())["seeded"] is True
    names = sample_names(platform.gateway_url)
    expected = {(p.category, p.name) for p in SAMPLE_CATALOGUE}
    assert expected <= set(names)
    assert len([n for n in names if n in expected]) == len(expected)  # each sample product exactly once

    second = run_ecomctl(["up"], platform_environ)
    assert second.returncode == 0, second.stderr
    assert sample_names(platform.gateway_url) == names  # nothing added

    page = shopper_page
    page.goto("/#/?category=Coffee")
    for product in (p for p in SAMPLE_CATALOGUE if p.category == "Coffee"):
        expect(page.locator("li.card", has_text=product.name).first).to_be_visible()
    page.goto("/#/")
    page.get_by_role("searchbox", name="Search").fill("Trail runner")
    page.get_by_role("searchbox", name="Search").press("Enter")
    trail = page.locator("li.card", has_text="Trail runner").first
    expect(trail).to_be_visible()
    expect(trail).to_contain_text("89.99")
