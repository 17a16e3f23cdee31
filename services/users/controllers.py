"""Thin HTTP handlers of the users API: parse, call the service, return a schema.

The handlers reach the service and the caller through the closure of ``users_controllers``
rather than Litestar dependencies: two independent dependencies per handler made Litestar
spawn an anyio task group per request (more CPU than the rest of ``GET /api/users/me``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Callers
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.users.schemas import LoginRequest, TokenResponse, User, UserCreate, UserPage
from services.users.service import UserService

UserId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]
AnyRequest = Request[Any, Any, Any]


FORWARDED_FOR = b"x-forwarded-for"


def client_address(request: AnyRequest) -> str:
    """The caller's address: the last hop the gateway appended to X-Forwarded-For, else the peer."""
    forwarded: bytes | None = None
    for name, value in request.scope["headers"]:
        if name == FORWARDED_FOR:
            forwarded = value  # the last one: the gateway's
    if forwarded:
        return forwarded.decode("latin-1").rsplit(",", 1)[-1].strip()
    client = request.scope.get("client")
    return str(client[0]) if client else ""


def users_controllers(users: Callable[[], UserService], callers: Callers) -> list[type[Controller]]:
    """The users and auth routes, bound to the app's service (available once the app has started)."""

    class UsersController(Controller):
        path = "/api/users"
        tags = ["users"]  # noqa: RUF012

        @post("/", status_code=201, summary="Register")
        async def register(self, data: UserCreate) -> User:
            return await users().register(data)

        @get("/me", security=SECURITY, summary="The caller")
        async def me(self, request: AnyRequest) -> User:
            caller = callers.of(request)
            return await users().get(caller, caller.user_id)

        @get("/{user_id:str}", security=SECURITY, summary="A user (self or admin)")
        async def get_user(self, request: AnyRequest, user_id: UserId) -> User:
            return await users().get(callers.of(request), user_id)

        @get("/", security=SECURITY, summary="Every user (admin)")
        async def list_users(self, request: AnyRequest, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
                             ) -> UserPage:
            return await users().list(callers.of(request), limit, cursor)

    class AuthController(Controller):
        path = "/api/auth"
        tags = ["auth"]  # noqa: RUF012

        @post("/login", status_code=200, summary="Log in: a bearer token")
        async def login(self, request: AnyRequest, data: LoginRequest) -> TokenResponse:
            return await users().login(data, client_address(request))

        @post("/logout", status_code=204, security=SECURITY, summary="Log out: revoke the bearer token")
        async def logout(self, request: AnyRequest) -> None:
            await users().logout(callers.of(request))

    return [UsersController, AuthController]
