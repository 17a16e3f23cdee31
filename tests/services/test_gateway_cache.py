"""The gateway's cache of anonymous catalogue reads: single-flight misses, writes invalidate,
keyed by the route's own parameters (the proxy against a counting upstream; no platform needed)."""

from __future__ import annotations

import asyncio
from typing import Any

from services.gateway.proxy import Proxy, public_cache
from services.gateway.settings import PUBLIC_QUERY
from services.kit.auth import Caller, TokenVerifier, issue_token
from services.kit.upstream import Answer, Upstream


class CountingUpstream(Upstream):
    """Answers every request after ``delay_s`` with its method, path and a version number."""

    def __init__(self, delay_s: float = 0.05, status: int = 200) -> None:
        super().__init__("http://127.0.0.1:9", 1, 1)
        self.delay_s = delay_s
        self.status = status
        self.requests: list[tuple[str, str]] = []
        self.version = 0

    async def request(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes) -> Answer:
        self.requests.append((method, target))
        if method != "GET":
            self.version += 1
        version = self.version
        await asyncio.sleep(self.delay_s)
        return Answer(self.status, [(b"content-type", b"application/json")], f'{{"v": {version}}}'.encode())


async def call(proxy: Proxy, method: str, path: str, authorization: bytes | None = None,
               query: bytes = b"") -> tuple[int, bytes]:
    headers = [(b"authorization", authorization)] if authorization else []
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                             "query_string": query, "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await proxy(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], sent[1]["body"]


SECRET = "a-test-secret-that-is-long-enough-for-hs256"


def proxy_for(upstream: Upstream) -> Proxy:
    return Proxy(upstream, TokenVerifier(SECRET), 1024, public_cache(1.0, 1024 * 1024), PUBLIC_QUERY["products"])


async def test_concurrent_misses_share_one_upstream_request() -> None:
    upstream = CountingUpstream()
    proxy = proxy_for(upstream)
    answers = await asyncio.gather(*(call(proxy, "GET", "/api/products/p1") for _ in range(30)))
    assert answers == [(200, b'{"v": 0}')] * 30
    assert upstream.requests == [("GET", "/api/products/p1")]
    assert await call(proxy, "GET", "/api/products/p1") == (200, b'{"v": 0}')  # a hit
    assert len(upstream.requests) == 1


async def test_a_read_after_a_write_never_gets_an_answer_fetched_before_it() -> None:
    upstream = CountingUpstream()
    proxy = proxy_for(upstream)
    early = asyncio.ensure_future(call(proxy, "GET", "/api/products/p1"))
    await asyncio.sleep(0.01)  # that fetch is in flight
    await call(proxy, "PATCH", "/api/products/p1")
    late = await call(proxy, "GET", "/api/products/p1")
    assert await early == (200, b'{"v": 0}')
    assert late == (200, b'{"v": 1}')
    assert await call(proxy, "GET", "/api/products/p1") == (200, b'{"v": 1}')  # the old answer was not cached


async def test_answers_that_are_not_200_are_not_cached() -> None:
    upstream = CountingUpstream(status=404, delay_s=0)
    proxy = proxy_for(upstream)
    answers = [await call(proxy, "GET", "/api/products/nope") for _ in range(3)]
    assert [status for status, _ in answers] == [404] * 3
    assert len(upstream.requests) == 3


async def test_junk_query_parameters_share_the_entry_of_the_route_parameters() -> None:
    upstream = CountingUpstream(delay_s=0)
    proxy = proxy_for(upstream)
    for n in range(50):
        await call(proxy, "GET", "/api/products", query=b"category=books&limit=5&junk=%d" % n)
    await call(proxy, "GET", "/api/products", query=b"limit=5&category=books")
    assert len(upstream.requests) == 1
    assert proxy.cache is not None and len(proxy.cache) == 1
    await call(proxy, "GET", "/api/products", query=b"limit=6&category=books")  # a route parameter differs
    assert len(upstream.requests) == 2


async def test_reads_and_options_never_clear_the_cache() -> None:
    upstream = CountingUpstream(delay_s=0, status=200)
    proxy = proxy_for(upstream)
    await call(proxy, "GET", "/api/products/p1")
    await call(proxy, "OPTIONS", "/api/products/p1")
    await call(proxy, "HEAD", "/api/products/p1")
    assert proxy.cache is not None and proxy.cache.get(("/api/products/p1", ())) is not None


async def test_the_cache_is_bounded_in_bytes() -> None:
    upstream = CountingUpstream(delay_s=0)
    proxy = Proxy(upstream, TokenVerifier(SECRET), 1024, public_cache(1.0, 4096), PUBLIC_QUERY["products"])
    for n in range(500):
        await call(proxy, "GET", f"/api/products/p{n}")
    assert proxy.cache is not None and proxy.cache.bytes <= 4096 and len(proxy.cache) < 500


async def test_authenticated_reads_bypass_the_cache() -> None:
    upstream = CountingUpstream(delay_s=0)
    proxy = proxy_for(upstream)
    token = issue_token(SECRET, Caller(user_id="u1", email="u1@example.com", role="user"), 60)
    await call(proxy, "GET", "/api/products/p1")
    assert await call(proxy, "GET", "/api/products/p1", authorization=f"Bearer {token}".encode()) == (200, b'{"v": 0}')
    assert len(upstream.requests) == 2  # forwarded, not answered from the cache
