"""Does a topic exist? One Kafka Metadata request (v4) over a plain TCP connection. Stdlib only.

Used by the job's start-up wait on PLAINTEXT listeners (the local stack) from a background thread
while the job is planned. It cannot go through the PyFlink gateway there: py4j would serve the
main thread's next calls on another Java thread, and Flink's planner keeps per-thread state
(a ``NullPointerException: metadataHandlerProvider`` at submission, measured). Version 4 is the
oldest Metadata version Kafka 4 still serves, and the first that can say "do not auto-create".
"""

from __future__ import annotations

import socket
import struct

METADATA = 3  # API key
VERSION = 4
CLIENT_ID = b"orders-analytics-wait"
UNKNOWN_TOPIC_OR_PARTITION = 3


class KafkaUnavailable(OSError):
    """No broker answered (not up yet, or not reachable)."""


def topic_exists(bootstrap_servers: str, topic: str, timeout_s: float = 3.0) -> bool:
    """True once a broker lists ``topic``; False while it does not exist. ``KafkaUnavailable``
    when no bootstrap server answers."""
    last: OSError | None = None
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            return _ask(host, int(port), topic, timeout_s)
        except OSError as exc:
            last = exc
    raise KafkaUnavailable(f"no Kafka broker answered at {bootstrap_servers}: {last}")


def _ask(host: str, port: int, topic: str, timeout_s: float) -> bool:
    with socket.create_connection((host, port), timeout=timeout_s) as conn:
        conn.sendall(_frame(_request(topic)))
        (size,) = struct.unpack(">i", _read(conn, 4))
        return _topic_error(_read(conn, size)) == 0


def _request(topic: str) -> bytes:
    name = topic.encode()
    header = struct.pack(">hhih", METADATA, VERSION, 1, len(CLIENT_ID)) + CLIENT_ID
    body = struct.pack(">ih", 1, len(name)) + name + b"\x00"  # [topic], allow_auto_topic_creation=false
    return header + body


def _frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("Kafka closed the connection")
        data += chunk
    return data


def _topic_error(response: bytes) -> int:
    """The error code of the one topic asked for (0 = it exists)."""
    reader = _Reader(response)
    reader.int32()  # correlation id
    reader.int32()  # throttle time
    for _ in range(reader.int32()):  # brokers
        reader.int32()  # node id
        reader.string()  # host
        reader.int32()  # port
        reader.string()  # rack (nullable)
    reader.string()  # cluster id (nullable)
    reader.int32()  # controller id
    if reader.int32() < 1:  # topics
        raise ConnectionError("Kafka answered the metadata request with no topic")
    return reader.int16()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def _take(self, fmt: str) -> int:
        (value,) = struct.unpack_from(fmt, self._data, self._at)
        self._at += struct.calcsize(fmt)
        return int(value)

    def int16(self) -> int:
        return self._take(">h")

    def int32(self) -> int:
        return self._take(">i")

    def string(self) -> None:
        length = self.int16()
        self._at += max(length, 0)  # -1 = null
