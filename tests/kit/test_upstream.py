"""The kit's HTTP/1.1 keep-alive client (the gateway's upstreams, DynamoDB) against a scripted
server (no platform needed)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from services.kit.upstream import SWEEP_S, Upstream, UpstreamBroken, UpstreamTimeout, UpstreamUnavailable

Reply = Callable[[bytes], bytes | None]


@asynccontextmanager
async def scripted(reply: Reply) -> AsyncIterator[tuple[int, list[int]]]:
    """A server answering each request head with ``reply(head)``; counts connections."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), 0)
                await reader.readexactly(length)
                answer = reply(head)
                if answer is None:
                    await asyncio.sleep(10)
                    return
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()


async def test_content_length_answers_reuse_the_connection() -> None:
    def reply(head: bytes) -> bytes:
        body = head.split(b" ")[1]
        return b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async with scripted(reply) as (port, connections):
        upstream = Upstream(f"http://127.0.0.1:{port}", 1, 2)
        for path in ("/a", "/bb?x=1", "/ccc"):
            answer = await upstream.request("GET", path, [(b"x-request-id", b"r1")], b"")
            assert (answer.status, answer.body) == (200, path.encode())
            assert answer.headers == [(b"content-type", b"text/plain")]
        assert len(connections) == 1
        await upstream.close()


async def test_chunked_and_close_delimited_bodies() -> None:
    replies = iter([
        b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n4\r\nWiki\r\n6;ext=1\r\npedia!\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ])
    async with scripted(lambda _: next(replies)) as (port, connections):
        upstream = Upstream(f"http://127.0.0.1:{port}", 1, 2)
        first = await upstream.request("POST", "/x", [], b'{"a": 1}')
        assert (first.status, first.body) == (201, b"Wikipedia!")
        second = await upstream.request("GET", "/y", [], b"")
        assert (second.status, second.body) == (200, b"until the end")
        third = await upstream.request("DELETE", "/z", [], b"")
        assert (third.status, third.body) == (204, b"")
        assert len(connections) == 2  # the close-delimited answer ended its connection
        await upstream.close()


async def test_failures_are_typed() -> None:
    async with scripted(lambda _: None) as (port, _):
        with pytest.raises(UpstreamTimeout):
            await Upstream(f"http://127.0.0.1:{port}", 1, 0.3).request("GET", "/", [], b"")
    async with scripted(lambda _: b"SSH-2.0-nope\r\n\r\n") as (port, _):
        with pytest.raises(UpstreamBroken):
            await Upstream(f"http://127.0.0.1:{port}", 1, 1).request("GET", "/", [], b"")
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(UpstreamUnavailable):
        await Upstream(f"http://127.0.0.1:{port}", 0.5, 1).request("GET", "/", [], b"")


async def test_idle_connections_the_upstream_closed_are_closed_here() -> None:
    """No CLOSE-WAIT pile-up: the upstream ends its keep-alive connections after answering."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.close()  # idle timeout on the upstream's side

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    upstream = Upstream(f"http://127.0.0.1:{port}", 1, 2)
    try:
        await asyncio.gather(*(upstream.request("GET", "/", [], b"") for _ in range(20)))
        idle = list(upstream._idle)
        assert len(idle) == 20
        await asyncio.sleep(SWEEP_S * 2 + 0.2)
        assert upstream._idle == [] and all(conn.writer.transport.is_closing() for conn in idle)
    finally:
        await upstream.close()
        server.close()


async def test_an_abandoned_request_closes_its_connection() -> None:
    hung_up = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        if await reader.read() == b"":  # never answers; waits for the client to hang up
            hung_up.set()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    upstream = Upstream(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", 1, 5)
    try:
        task = asyncio.ensure_future(upstream.request("GET", "/", [], b""))
        await asyncio.sleep(0.1)
        task.cancel()  # the gateway's client went away
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(hung_up.wait(), 1)
        assert upstream._idle == []
    finally:
        await upstream.close()
        server.close()
