"""Forwarding ``/api/...`` to the services: pooled connections, timeouts, clean 502/503/504.

A raw ASGI app mounted per route prefix: the request body is read (bounded), a bearer token is
verified before anything is forwarded (401 here, not upstream), the request id travels along, and
the upstream's answer is returned as is. An unreachable upstream is a 503, a slow one a 504, a
broken answer a 502: never a hang, never internals in the body.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import msgspec
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from services.gateway.upstream import Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable
from services.kit.auth import TokenVerifier, bearer
from services.kit.errors import Unauthorized
from services.kit.logging import request_id

log = logging.getLogger("services.gateway.proxy")

FORWARD_REQUEST = frozenset({
    b"authorization", b"content-type", b"accept", b"idempotency-key", b"if-none-match", b"user-agent",
})
FORWARD_RESPONSE = frozenset({b"content-type", b"etag", b"cache-control", b"location", b"www-authenticate",
                              b"retry-after"})
PROBLEM = b"application/problem+json"


class BodyTooLarge(Exception):
    pass


def upstream_client(connect_timeout_s: float, read_timeout_s: float, max_connections: int = 256
                    ) -> aiohttp.ClientSession:
    """One pooled session for every upstream (keep-alive; bounded connect, read and total time).

    Create it inside the running loop (the app's lifespan)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max_connections, limit_per_host=max_connections,
                                       keepalive_timeout=30, ttl_dns_cache=300),
        timeout=aiohttp.ClientTimeout(total=read_timeout_s + connect_timeout_s,
                                      sock_connect=connect_timeout_s, sock_read=read_timeout_s),
        auto_decompress=False, skip_auto_headers=("User-Agent", "Accept-Encoding"),
    )


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _problem(send: Send, status: int, title: str, detail: str, extra: dict[str, str] | None = None) -> None:
    body = msgspec.json.encode({"type": "about:blank", "title": title, "status": status, "detail": detail,
                                "request_id": request_id()})
    headers = [(b"content-type", PROBLEM), (b"content-length", str(len(body)).encode())]
    for name, value in (extra or {}).items():
        headers.append((name.encode(), value.encode()))
    await _respond(send, status, headers, body)


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    payload: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(payload)


Cached = tuple[list[tuple[bytes, bytes]], bytes]  # headers, body of a 200 answer


class PublicCache:
    """Successful anonymous GET answers, kept ``ttl_s`` (the catalogue's own read cache is as fresh).

    Only what anyone may read is cached (no Authorization header); orders never read stock
    from here, so the cache cannot cause an oversell.

    Misses are single-flight: while one request fetches a key, the others that miss it wait for
    that answer instead of each going upstream (when an entry expired under load, every open
    connection used to miss at once and the burst of upstream calls showed in the p99). A
    write through the gateway (``clear``) also forgets the fetches in flight, so a read that
    starts after a write never gets an answer fetched before it.
    """

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, list[tuple[bytes, bytes]], bytes]] = {}
        self._fetching: dict[str, asyncio.Future[Cached | None]] = {}

    def get(self, key: str) -> Cached | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1], entry[2]

    def clear(self) -> None:
        self._entries.clear()
        self._fetching.clear()

    def fetching(self, key: str) -> asyncio.Future[Cached | None] | None:
        """The fetch of ``key`` in flight, if any (its result: the answer, or None if not cacheable)."""
        return self._fetching.get(key)

    def begin(self, key: str) -> asyncio.Future[Cached | None]:
        """Register the caller as the one fetching ``key``; it must call ``end`` in every case."""
        fetch: asyncio.Future[Cached | None] = asyncio.get_running_loop().create_future()
        self._fetching[key] = fetch
        return fetch

    def end(self, key: str, fetch: asyncio.Future[Cached | None], answer: Cached | None) -> None:
        """Publish the fetched answer (None: not cacheable) to the waiters; cache it unless a write
        happened meanwhile."""
        if self._fetching.get(key) is fetch:
            del self._fetching[key]
            if answer is not None:
                self._put(key, *answer)
        if not fetch.done():
            fetch.set_result(answer)

    def _put(self, key: str, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.ttl_s, headers, body)


class Proxy:
    """Forwards every request under its prefix to one upstream."""

    def __init__(self, upstream: Upstream, tokens: TokenVerifier, max_body_bytes: int,
                 cache: PublicCache | None = None) -> None:
        self.upstream = upstream
        self.tokens = tokens
        self.max_body_bytes = max_body_bytes
        self.cache = cache

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = str(scope.get("method", "GET"))
        headers: list[tuple[bytes, bytes]] = []
        authorization: bytes | None = None
        for name, value in scope["headers"]:
            if name in FORWARD_REQUEST:
                headers.append((name, value))
                if name == b"authorization":
                    authorization = value
        try:
            token = bearer(authorization.decode("latin-1")) if authorization is not None else None
            if token is not None:
                self.tokens.verify(token)
        except Unauthorized as exc:
            await _problem(send, 401, "Unauthorized", exc.detail, {"www-authenticate": "Bearer"})
            return
        try:
            body = await _read_body(receive, self.max_body_bytes)
        except BodyTooLarge:
            await _problem(send, 413, "Content Too Large", f"the body exceeds {self.max_body_bytes} bytes")
            return
        headers.append((b"x-request-id", request_id().encode()))
        client_addr = scope.get("client")
        if client_addr:
            headers.append((b"x-forwarded-for", str(client_addr[0]).encode()))
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query: bytes = scope.get("query_string", b"")
        target = raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
        cache = self.cache if method == "GET" and authorization is None else None
        if cache is None:
            await self._forward(send, method, target, headers, body)
            return
        hit = cache.get(target)
        if hit is None:
            pending = cache.fetching(target)
            if pending is not None:
                hit = await asyncio.shield(pending)
        if hit is not None:
            await _respond(send, 200, hit[0], hit[1])
            return
        fetch = cache.begin(target)
        answer: Cached | None = None
        try:
            answer = await self._forward(send, method, target, headers, body)
        finally:
            cache.end(target, fetch, answer)

    async def _forward(self, send: Send, method: str, target: str, headers: list[tuple[bytes, bytes]],
                       body: bytes) -> Cached | None:
        """Send the request upstream and its answer back; the answer when it is a cacheable 200."""
        try:
            answer = await self.upstream.request(method, target, headers, body)
        except UpstreamTimeout:
            log.warning("upstream timeout: %s %s:%s", method, self.upstream.host, self.upstream.port)
            await _problem(send, 504, "Gateway Timeout", "the service did not answer in time")
            return None
        except UpstreamUnavailable as exc:
            log.warning("upstream unreachable: %s:%s (%s)", self.upstream.host, self.upstream.port, exc)
            await _problem(send, 503, "Service Unavailable", "the service is unavailable, retry later",
                           {"retry-after": "1"})
            return None
        except UpstreamBroken as exc:
            log.warning("upstream failed: %s:%s (%s)", self.upstream.host, self.upstream.port, exc)
            await _problem(send, 502, "Bad Gateway", "the service gave no valid answer")
            return None
        out = [(k, v) for k, v in answer.headers if k in FORWARD_RESPONSE]
        out.append((b"content-length", str(len(answer.body)).encode()))
        if self.cache is not None and method not in ("GET", "HEAD") and answer.status < 400:
            self.cache.clear()  # a write through this gateway is visible to its next read
        await _respond(send, answer.status, out, answer.body)
        return (out, answer.body) if answer.status == 200 else None
