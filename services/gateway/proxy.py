"""Forwarding ``/api/...`` to the services: pooled connections, timeouts, clean 502/503/504.

A raw ASGI app mounted per route prefix: the request body is read (bounded), a bearer token is
verified before anything is forwarded (401 here, not upstream), the request id travels along, and
the upstream's answer is returned as is. An unreachable upstream is a 503, a slow one a 504, a
broken answer a 502: never a hang, never internals in the body. Every error answer is the kit's
problem details (``respond_error``).

Anonymous catalogue reads are answered from a ``Cache`` (``PUBLIC_QUERY`` names the query
parameters an answer depends on: the rest of a query string is not part of the key).
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import parse_qsl

from litestar.types import Receive, Scope, Send

from services.kit.asgi import Headers, read_body, respond, respond_error
from services.kit.auth import TokenVerifier, authorization_of, bearer
from services.kit.cache import Cache
from services.kit.errors import BadGateway, ContentTooLarge, GatewayTimeout, ServiceError, Unavailable
from services.kit.logging import request_id
from services.kit.upstream import Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable

log = logging.getLogger("services.gateway.proxy")

FORWARD_REQUEST = frozenset({
    b"authorization", b"content-type", b"accept", b"idempotency-key", b"if-none-match", b"user-agent",
})
FORWARD_RESPONSE = frozenset({b"content-type", b"etag", b"cache-control", b"location", b"www-authenticate",
                              b"retry-after"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Answer = tuple[int, Headers, bytes]  # status, forwarded headers, body
PublicCache = Cache[Answer]


def public_cache(ttl_s: float, max_bytes: int) -> PublicCache:
    """Anonymous GET answers, kept ``ttl_s`` (the catalogue's own read cache is as fresh).

    Only what anyone may read is cached (no Authorization header); orders never read stock
    from here, so the cache cannot cause an oversell."""
    return Cache(ttl_s, max_bytes, lambda answer: len(answer[2]) + sum(len(k) + len(v) for k, v in answer[1]))


def cache_key(path: str, query: bytes, params: frozenset[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The path and the query parameters of ``params`` (sorted by name, in order per name)."""
    return path, (_route_query(query, params) if query else ())


@functools.lru_cache(maxsize=256)
def _route_query(query: bytes, params: frozenset[str]) -> tuple[tuple[str, str], ...]:
    pairs = [(k, v) for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True) if k in params]
    return tuple(sorted(pairs, key=lambda pair: pair[0]))


def _is_200(answer: Answer) -> bool:
    return answer[0] == 200


class Proxy:
    """Forwards every request under its prefix to one upstream."""

    def __init__(self, upstream: Upstream, tokens: TokenVerifier, max_body_bytes: int,
                 cache: PublicCache | None = None, public_query: frozenset[str] = frozenset()) -> None:
        self.upstream = upstream
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes
        self.cache = cache
        self.public_query = public_query

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = str(scope.get("method", "GET"))
        try:
            authorization = authorization_of(scope["headers"])
            token = bearer(authorization)
            if token is not None:
                self.tokens.verify(token)
            body, complete = await read_body(receive, self.max_body_bytes)
            if not complete or len(body) > self.max_body_bytes:  # the rest is unread: end the connection
                raise ContentTooLarge(f"the body exceeds {self.max_body_bytes} bytes", headers={"connection": "close"})
        except ServiceError as exc:
            await respond_error(send, exc)
            return
        query: bytes = scope.get("query_string", b"")
        cache = self.cache if method == "GET" and authorization is None else None
        key = cache_key(scope["path"], query, self.public_query) if cache is not None else None
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                await respond(send, *hit)
                return
        headers: Headers = [(name, value) for name, value in scope["headers"] if name in FORWARD_REQUEST]
        headers.append((b"x-request-id", request_id().encode()))
        client_addr = scope.get("client")
        if client_addr:
            headers.append((b"x-forwarded-for", str(client_addr[0]).encode()))
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        target = raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")

        try:
            if cache is not None:
                answer = await cache.get_or_load(key, lambda: self._fetch(method, target, headers, body), keep=_is_200)
            else:
                answer = await self._fetch(method, target, headers, body)
                if self.cache is not None and method in WRITES and answer[0] < 400:
                    self.cache.clear()  # a write through this gateway is visible to its next read
        except ServiceError as exc:
            await respond_error(send, exc)
            return
        await respond(send, *answer)

    async def _fetch(self, method: str, target: str, headers: Headers, body: bytes) -> Answer:
        """The upstream's answer, or the kit's error for why there is none."""
        where = f"{self.upstream.host}:{self.upstream.port}"
        try:
            answer = await self.upstream.request(method, target, headers, body)
        except UpstreamTimeout:
            log.warning("upstream timeout: %s %s", method, where)
            raise GatewayTimeout("the service did not answer in time") from None
        except UpstreamUnavailable as exc:
            log.warning("upstream unreachable: %s (%s)", where, exc)
            raise Unavailable("the service is unavailable, retry later", headers={"retry-after": "1"}) from None
        except UpstreamBroken as exc:
            log.warning("upstream failed: %s (%s)", where, exc)
            raise BadGateway("the service gave no valid answer") from None
        return answer.status, [(k, v) for k, v in answer.headers if k in FORWARD_RESPONSE], answer.body

