"""Where a demo runs: the local stack, a cloud stack (from its outputs) or a gateway URL."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

from ecomctl.demo.run import Target
from ecomctl.errors import ConfigError

if TYPE_CHECKING:
    from ecomctl.local.platform import LocalPlatform


def local_target(platform: LocalPlatform) -> Target:
    """The local stack (already up): its gateway, admin login, and ``status`` as the health source."""

    async def health() -> list[tuple[str, str]]:
        state = await asyncio.to_thread(platform.status)
        return [(c.name, c.state) for c in state.components]

    return Target(platform.gateway_url, platform.admin_email, platform.admin_password, health)


def cloud_target(stack: str) -> Target:
    """A deployed cloud stack: the storefront URL and admin login from its outputs."""
    from ecomctl.platform import open_platform

    platform = open_platform(stack)
    url = platform.outputs().get("storefront_url")
    if not url:
        raise ConfigError(f"stack {stack!r} has no storefront URL yet", hint=f"ecomctl up --stack {stack}")
    login = platform.credentials()
    return Target(str(url).rstrip("/"), login.admin_email, login.admin_password)


def url_target(url: str) -> Target:
    """Any gateway by URL; ECOMCTL_ADMIN_EMAIL/ECOMCTL_ADMIN_PASSWORD let the demo seed its catalogue."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"--url must be an http(s) URL, not {url!r}", hint="e.g. --url http://127.0.0.1:8000")
    return Target(url.rstrip("/"), os.environ.get("ECOMCTL_ADMIN_EMAIL") or None,
                  os.environ.get("ECOMCTL_ADMIN_PASSWORD") or None)
