"""A small HTTP/1.1 keep-alive client: the gateway's upstreams, and DynamoDB's endpoint.

The general-purpose clients measured here spend 250+ us of CPU per proxied request; this one
writes the request in one buffer and reads the answer with two awaits, which is all an
internal hop needs. It speaks exactly what the services and DynamoDB send: ``Content-Length``
or chunked bodies, keep-alive connections, over plain HTTP or TLS (``https://``, the system's
trust store). Idle connections are reused (newest first) and dropped after ``idle_s``; a request
is never retried, so a POST is never sent twice. ``max_connections`` bounds the connections open
at once (a request waits for one within its timeout).

No socket is left half-closed: an idle connection the upstream closed (its keep-alive ended,
it restarted) is closed here within ``SWEEP_S``, and a request abandoned midway (the client
went away, a timeout) closes its connection instead of leaking it.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade",
                        b"proxy-authorization", b"proxy-authenticate"})
MAX_HEAD = 64 * 1024
SWEEP_S = 1.0


class UpstreamUnavailable(Exception):
    """No connection could be made."""


class UpstreamTimeout(Exception):
    """No complete answer in time."""


class UpstreamBroken(Exception):
    """The upstream answered something that is not HTTP/1.1, or hung up mid-answer."""


@dataclass
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = field(default_factory=time.monotonic)


class Upstream:
    """One upstream base URL (``http://host:port``)."""

    def __init__(self, base_url: str, connect_timeout_s: float, read_timeout_s: float,
                 max_idle: int = 256, idle_s: float = 20.0, max_connections: int | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream must be http(s)://host[:port], got {base_url!r}")
        self.host = parts.hostname
        self.tls = ssl.create_default_context() if parts.scheme == "https" else None
        self.port = parts.port or (443 if self.tls else 80)
        self.host_header = parts.netloc.encode()
        self._slots = asyncio.Semaphore(max_connections) if max_connections else None
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_idle = max_idle
        self.idle_s = idle_s
        self._idle: list[_Conn] = []
        self._sweep: asyncio.TimerHandle | None = None

    async def _connect(self) -> _Conn:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.idle_since < self.idle_s and not conn.writer.is_closing() and not conn.reader.at_eof():
                return conn
            conn.writer.close()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=MAX_HEAD, ssl=self.tls,
                                        server_hostname=self.host if self.tls else None),
                self.connect_timeout_s,
            )
        except (OSError, TimeoutError) as exc:
            raise UpstreamUnavailable(type(exc).__name__) from exc
        return _Conn(reader, writer)

    def _release(self, conn: _Conn, reusable: bool) -> None:
        if reusable and len(self._idle) < self.max_idle:
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
            if self._sweep is None:
                self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._close_stale)
        else:
            conn.writer.close()

    def _close_stale(self) -> None:
        """Close the idle connections the upstream hung up on or that idled too long."""
        self._sweep = None
        now = time.monotonic()
        keep: list[_Conn] = []
        for conn in self._idle:
            if now - conn.idle_since < self.idle_s and not conn.reader.at_eof() and not conn.writer.is_closing():
                keep.append(conn)
            else:
                conn.writer.close()
        self._idle = keep
        if keep:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._close_stale)

    async def request(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes,
                      timeout_s: float | None = None) -> Answer:
        """The upstream's answer; ``timeout_s`` (default: the read timeout) bounds reading it."""
        if self._slots is None:
            return await self._request(method, target, headers, body, timeout_s)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.connect_timeout_s)
        except TimeoutError:
            raise UpstreamUnavailable("no free connection") from None
        try:
            return await self._request(method, target, headers, body, timeout_s)
        finally:
            self._slots.release()

    async def _request(self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes,
                       timeout_s: float | None) -> Answer:
        conn = await self._connect()
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), b"host: ", self.host_header, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        head.append(f"content-length: {len(body)}\r\n\r\n".encode() if body or method not in ("GET", "HEAD")
                    else b"\r\n")
        try:
            conn.writer.write(b"".join(head) + body)
            async with asyncio.timeout(self.read_timeout_s if timeout_s is None else timeout_s):
                answer, reusable = await self._read(conn.reader, method)
        except TimeoutError:
            conn.writer.close()
            raise UpstreamTimeout from None
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError) as exc:
            conn.writer.close()
            raise UpstreamBroken(type(exc).__name__) from exc
        except BaseException:  # cancelled midway: the connection's state is unknown
            conn.writer.close()
            raise
        self._release(conn, reusable)
        return answer

    @staticmethod
    async def _read(reader: asyncio.StreamReader, method: str) -> tuple[Answer, bool]:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        if not version.startswith(b"HTTP/1."):
            raise ValueError("not an HTTP/1.x answer")
        status = int(rest[:3])
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        keep_alive = version == b"HTTP/1.1"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep_alive = value.lower() != b"close" and (keep_alive or value.lower() == b"keep-alive")
            if name not in HOP_BY_HOP and name != b"content-length":
                headers.append((name, value))
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")  # end of (empty) trailers
                    break
                parts.append(await reader.readexactly(size + 2))
            body = b"".join(p[:-2] for p in parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()  # delimited by close
            keep_alive = False
        return Answer(status, headers, body), keep_alive

    async def close(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        while self._idle:
            self._idle.pop().writer.close()
