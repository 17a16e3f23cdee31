"""Errors a service raises, and the one mapping from errors to problem-details responses.

    ServiceError            500 (base; never shows its text for 5xx)
    ├── Invalid             400 / 422
    ├── Unauthorized        401
    ├── Forbidden           403
    ├── NotFound            404
    ├── Conflict            409
    ├── Unavailable         503 (a dependency is down)
    ├── BadGateway          502 (an upstream answered badly or not at all)
    └── GatewayTimeout      504 (an upstream was too slow)
"""

from __future__ import annotations

import logging
from typing import Any

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
                 retry_after_s: int | None = None) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra or {}
        self.retry_after_s = retry_after_s  # sent as Retry-After


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


def problem_document(status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body of an RFC 9457 problem-details answer (with the request id)."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    rid = request_id()
    if rid:
        body["request_id"] = rid
    body.update(extra)
    return body


def problem(status: int, title: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    """An RFC 9457 problem-details response."""
    body = problem_document(status, title, detail, **extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _service_error(_: Request[Any, Any, Any], exc: ServiceError) -> Response[dict[str, Any]]:
    if exc.status >= 500:
        log.warning("request failed: %s %s", exc.status, exc.detail)
    response = problem(exc.status, exc.title, exc.detail, **exc.extra)
    if exc.retry_after_s is not None:
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    return problem(400, "Bad Request", exc.detail or "invalid request", errors=errors)


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    title = "Error" if status >= 500 else (exc.detail or "Error")
    detail = "the server could not answer" if status >= 500 else (exc.detail or "")
    response = problem(status, title, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.error("unhandled error", exc_info=exc)
    return problem(500, "Internal Server Error", "the server could not answer")


def _dependency_down(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.warning("a dependency failed: %s", type(exc).__name__)
    return problem(503, "Service Unavailable", "a dependency of this service is unavailable, retry later")


def exception_handlers(unavailable_on: tuple[type[Exception], ...] = ()) -> ExceptionHandlersMap:
    """The handler table; ``unavailable_on`` lists store/client errors that mean "retry later" (503)."""
    handlers = dict(EXCEPTION_HANDLERS)
    for error in unavailable_on:
        handlers[error] = _dependency_down
    return handlers


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ServiceError: _service_error,
    ValidationException: _validation,
    HTTPException: _http,
    Exception: _unexpected,
}
"""Pass as ``Litestar(exception_handlers=EXCEPTION_HANDLERS)``."""
