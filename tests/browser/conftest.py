"""Browser tests: Debian's Chromium driven by Playwright against the running local stack.

``playwright install`` cannot download browsers here, so the launch points at the system
binary. Every page gets a guard that fails the test on a JavaScript error, a Content
Security Policy violation or any dialog (an XSS payload that runs would open one).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Error, Page, Playwright

from tests.browser.shopapi import ShopApi

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEFAULT_TIMEOUT_MS = 30_000  # generous: CI shares 2 cores with the whole stack


@pytest.fixture(scope="session")
def playwright(platform: Any, playwright: Playwright) -> Playwright:
    """Bring the stack up before Playwright starts: its sync API runs an event loop in this
    thread, and the platform's ``up`` calls ``asyncio.run`` (which refuses a running loop)."""
    return playwright


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: apt-get install -y --no-install-recommends chromium")
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], platform: Any) -> dict[str, Any]:
    return {**browser_context_args, "base_url": platform.gateway_url, "viewport": {"width": 1100, "height": 800}}


@pytest.fixture(name="shop_api", scope="session")
def fx_shop_api(platform: Any) -> Iterator[ShopApi]:
    with ShopApi(platform.gateway_url, platform.admin_email, platform.admin_password) as api:
        yield api


@dataclass
class PageGuard:
    """What went wrong on a page that no assertion looked for."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        page.on("dialog", self._dialog)
        page.on("pageerror", self._page_error)
        page.on("console", self._console)
        return page

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _page_error(self, error: Error) -> None:
        self.errors.append(f"page error: {error}")

    def _console(self, msg: ConsoleMessage) -> None:
        if "Content Security Policy" in msg.text or "Refused to" in msg.text:
            self.errors.append(f"CSP: {msg.text}")


@pytest.fixture(name="guard")
def fx_guard() -> Iterator[PageGuard]:
    guard = PageGuard()
    yield guard
    assert guard.dialogs == [], f"dialogs opened (script injection?): {guard.dialogs}"
    assert guard.errors == [], f"errors on the page: {guard.errors}"


@pytest.fixture(name="shopper_page")
def fx_shopper_page(context: BrowserContext, guard: PageGuard) -> Page:
    """A fresh browser context (empty storage) with the guard attached."""
    return guard.watch(context.new_page())


@pytest.fixture(name="screenshot")
def fx_screenshot() -> Any:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
