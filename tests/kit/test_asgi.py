"""The kit's raw ASGI pieces: bounded body reading and its replay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from litestar.types import ReceiveMessage

from services.kit.asgi import read_body, replay


def _receiver(messages: list[ReceiveMessage]) -> Callable[[], Awaitable[ReceiveMessage]]:
    queue = list(messages)

    async def receive() -> ReceiveMessage:
        return queue.pop(0)

    return receive


def _chunks(*parts: bytes) -> list[ReceiveMessage]:
    return [{"type": "http.request", "body": part, "more_body": n < len(parts) - 1} for n, part in enumerate(parts)]


def test_a_body_in_chunks_is_read_whole() -> None:
    assert asyncio.run(read_body(_receiver(_chunks(b"ab", b"cd", b"e")), 10)) == (b"abcde", True)


def test_reading_stops_past_the_limit_and_the_replay_goes_on_from_there() -> None:
    async def scenario() -> None:
        receive = _receiver(_chunks(b"abcd", b"efgh", b"ijkl"))
        read, complete = await read_body(receive, 5)
        assert (read, complete) == (b"abcdefgh", False)
        again = replay(read, complete, receive)
        assert await read_body(again, 100) == (b"abcdefghijkl", True)

    asyncio.run(scenario())


def test_a_whole_body_is_replayed_as_the_last_chunk() -> None:
    async def scenario() -> None:
        receive = _receiver([*_chunks(b"{}"), {"type": "http.disconnect"}])
        read, complete = await read_body(receive, 100)
        again = replay(read, complete, receive)
        assert await again() == {"type": "http.request", "body": b"{}", "more_body": False}
        assert await again() == {"type": "http.disconnect"}  # then the connection's own messages

    asyncio.run(scenario())


def test_a_client_that_leaves_is_not_a_whole_body() -> None:
    receive = _receiver([{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}])
    assert asyncio.run(read_body(receive, 100)) == (b"ab", False)
