"""The web storefront: ``GET /`` and ``GET /assets/{path}`` from ``storefront/``, with a strict CSP."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

ROOT = Path(__file__).parent / "storefront"
def content_security_policy(upload_origin: str | None = None) -> str:
    """Only our own scripts and styles; fetches to ourselves and to the upload endpoint."""
    connect = "'self'" + (f" {upload_origin}" if upload_origin else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(upload_origin: str | None = None) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(upload_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
FALLBACK_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>ecomctl shop</title></head>"
    "<body><h1>ecomctl shop</h1><p>The storefront is not built yet. The API is at "
    "<a href=\"/schema\">/schema</a>.</p></body></html>"
)
_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
          ".json": "application/json", ".html": "text/html", ".png": "image/png", ".ico": "image/x-icon",
          ".woff2": "font/woff2", ".webmanifest": "application/manifest+json"}


def _content_type(path: Path) -> str:
    kind = _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return kind  # Litestar adds "; charset=utf-8" to text types


def storefront_handlers(root: Path = ROOT, upload_origin: str | None = None) -> list[HTTPRouteHandler]:
    assets = (root / "assets").resolve()
    headers = security_headers(upload_origin)

    @get("/", include_in_schema=False, sync_to_thread=False)
    def index() -> Response[bytes]:
        page = root / "index.html"
        body = page.read_bytes() if page.is_file() else FALLBACK_PAGE.encode()
        return Response(body, media_type="text/html",
                        headers={**headers, "Cache-Control": "no-cache"})

    @get("/assets/{asset:path}", include_in_schema=False, sync_to_thread=False)
    def asset(asset: str) -> Response[bytes]:
        target = (assets / asset.lstrip("/")).resolve()
        if not target.is_relative_to(assets) or not target.is_file():
            raise NotFoundException("no such asset")
        return Response(target.read_bytes(), media_type=_content_type(target),
                        headers={**headers, "Cache-Control": "public, max-age=300"})

    return [index, asset]
