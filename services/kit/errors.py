"""Errors a service raises, and the one mapping from errors to problem-details responses.

    ServiceError            500 (base; never shows its text for 5xx)
    ├── BadRequest          400
    ├── Invalid             422
    ├── Unauthorized        401
    ├── Forbidden           403
    ├── NotFound            404
    ├── Conflict            409
    ├── ContentTooLarge     413
    ├── TooManyRequests     429 (with Retry-After)
    ├── Unavailable         503 (a dependency is down)
    ├── BadGateway          502 (an upstream answered badly or not at all)
    └── GatewayTimeout      504 (an upstream was too slow)
"""

from __future__ import annotations

import logging
from typing import Any, NamedTuple

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from services.kit.logging import request_id

log = logging.getLogger("services.kit.errors")

PROBLEM_JSON = "application/problem+json"


class ServiceError(Exception):
    status = 500
    title = "Internal Server Error"

    def __init__(self, detail: str = "", *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None, retry_after_s: int | None = None) -> None:
        """``retry_after_s``: seconds sent as ``Retry-After`` (with 429 and 503)."""
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.headers = dict(headers or {})
        self.retry_after_s = retry_after_s
        if retry_after_s is not None:
            self.headers["retry-after"] = str(retry_after_s)


class BadRequest(ServiceError):
    status = 400
    title = "Bad Request"


class Invalid(ServiceError):
    status = 422
    title = "Unprocessable Content"


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"


class Forbidden(ServiceError):
    status = 403
    title = "Forbidden"


class NotFound(ServiceError):
    status = 404
    title = "Not Found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class ContentTooLarge(ServiceError):
    status = 413
    title = "Content Too Large"


class TooManyRequests(ServiceError):
    status = 429
    title = "Too Many Requests"


class Unavailable(ServiceError):
    status = 503
    title = "Service Unavailable"


class BadGateway(ServiceError):
    status = 502
    title = "Bad Gateway"


class GatewayTimeout(ServiceError):
    status = 504
    title = "Gateway Timeout"


class Problem(NamedTuple):
    """A problem-details answer: its status, its RFC 9457 document and extra headers."""

    status: int
    document: dict[str, Any]
    headers: dict[str, str]

    def body(self) -> bytes:
        return _encode(self.document)


_encode = msgspec.json.Encoder().encode
_UNAVAILABLE = "a dependency of this service is unavailable, retry later"
_UNEXPECTED = "the server could not answer"


def _document(status: int, title: str, detail: str, extra: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    rid = request_id()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    return body


def problem_of(exc: BaseException, unavailable_on: tuple[type[BaseException], ...] = ()) -> Problem:
    """The one mapping from an error to its problem-details answer (and its log line).

    Used by the apps' exception handlers, the raw ASGI routes and the gateway's proxy alike.
    ``unavailable_on``: store/client errors that mean "retry later" (503).
    """
    headers: dict[str, str] = {}
    if isinstance(exc, ServiceError):
        if exc.status >= 500:
            log.warning("request failed: %s %s", exc.status, exc.detail)
        status, title, detail, extra = exc.status, exc.title, exc.detail, exc.extra
        headers.update(exc.headers)
    elif isinstance(exc, ValidationException):
        errors = exc.extra if isinstance(exc.extra, list) else []
        status, title, detail, extra = 400, "Bad Request", exc.detail or "invalid request", {"errors": errors}
    elif isinstance(exc, HTTPException):
        status = exc.status_code
        if status >= 500:
            title, detail = "Error", _UNEXPECTED
        else:
            title = _TITLES.get(status) or exc.detail or "Error"
            detail = exc.detail or title
        extra = {}
        headers.update(exc.headers or {})
    elif isinstance(exc, unavailable_on):
        log.warning("a dependency failed: %s", type(exc).__name__)
        status, title, detail, extra = 503, Unavailable.title, _UNAVAILABLE, {}
    else:
        log.error("unhandled error", exc_info=exc)
        status, title, detail, extra = 500, ServiceError.title, _UNEXPECTED, {}
    if status == 401:
        headers.setdefault("www-authenticate", "Bearer")
    return Problem(status, _document(status, title, detail, extra), headers)


_TITLES = {413: ContentTooLarge.title, 429: TooManyRequests.title}


def exception_handlers(unavailable_on: tuple[type[Exception], ...] = ()) -> ExceptionHandlersMap:
    """The app's handler table: every error goes through ``problem_of``."""

    def handle(_: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        problem = problem_of(exc, unavailable_on)
        return Response(problem.body(), status_code=problem.status, media_type=PROBLEM_JSON,
                        headers=problem.headers or None)

    return {Exception: handle}
