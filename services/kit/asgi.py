"""Answering an HTTP request at the ASGI level, for the few hot routes that skip the framework.

A service's hottest route can be served by a raw ASGI handler in front of its Litestar app
(the app's routing, signature model and response machinery cost more CPU than the handler).
These are the pieces such a handler needs to answer exactly as the app would: the body read
within a bound, a replay of that body when the request is handed to the app after all, JSON
and problem-details answers, and the kit's mapping from errors to statuses.
"""

from __future__ import annotations

from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, ReceiveMessage, Send

from services.kit.errors import PROBLEM_JSON, problem_of

JSON = b"application/json"
Headers = list[tuple[bytes, bytes]]


async def read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Read the request body, stopping once more than ``limit`` bytes have arrived: what was read,
    and whether that is the whole body (False: more follows, or the client went away). Check the
    size of a whole body too (its last chunk may cross ``limit``); hand a body on with ``replay``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A ``receive`` that yields what ``read_body`` read, then whatever the connection says next."""
    pending = [body]

    async def again() -> ReceiveMessage:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": not complete}
        return await receive()

    return again


async def respond(send: Send, status: int, headers: Headers, body: bytes) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status,
                                     "headers": [*headers, (b"content-length", str(len(body)).encode())]}
    await send(start)
    payload: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(payload)


async def respond_json(send: Send, status: int, body: bytes) -> None:
    await respond(send, status, [(b"content-type", JSON)], body)


async def respond_error(send: Send, exc: BaseException,
                        unavailable_on: tuple[type[BaseException], ...] = ()) -> None:
    """The problem-details answer the app's exception handlers give for ``exc`` (``problem_of``)."""
    problem = problem_of(exc, unavailable_on)
    headers: Headers = [(b"content-type", PROBLEM_JSON.encode())]
    headers += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in problem.headers.items()]
    await respond(send, problem.status, headers, problem.body())
