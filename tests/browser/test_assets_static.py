"""Static checks of the storefront's files: no HTML sinks, nothing inline the CSP would block."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STOREFRONT = Path(__file__).resolve().parents[2] / "services" / "gateway" / "storefront"
SCRIPTS = sorted((STOREFRONT / "assets").glob("*.js"))
SINKS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(|\bsetTimeout\(\s*[\"'`]"
)


def test_there_are_scripts_to_check() -> None:
    assert {p.name for p in SCRIPTS} >= {"app.js", "api.js", "dom.js", "view-catalogue.js"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_use_no_html_sinks(script: Path) -> None:
    hits = [f"{script.name}:{n}: {line.strip()}" for n, line in enumerate(script.read_text().splitlines(), 1)
            if SINKS.search(line)]
    assert hits == []


def test_index_has_nothing_inline() -> None:
    html = (STOREFRONT / "index.html").read_text()
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], "inline script"
    assert "<style" not in html and " style=" not in html, "inline style"
    assert re.findall(r"\son[a-z]+\s*=", html) == [], "inline handler"


def test_every_module_the_page_imports_exists() -> None:
    html = (STOREFRONT / "index.html").read_text()
    referenced = set(re.findall(r'(?:src|href)="/assets/([^"]+)"', html))
    for script in SCRIPTS:
        referenced |= set(re.findall(r'from "\./([^"]+)"', script.read_text()))
    missing = sorted(name for name in referenced if not (STOREFRONT / "assets" / name).is_file())
    assert missing == []
