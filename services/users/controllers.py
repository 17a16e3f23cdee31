"""Thin HTTP handlers of the users API: parse, call the service, return a schema."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.kit.app import SECURITY
from services.kit.auth import Caller
from services.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from services.users.schemas import LoginRequest, TokenResponse, User, UserCreate, UserPage
from services.users.service import UserService

UserId = Annotated[str, Parameter(min_length=1, max_length=64)]
Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Parameter(max_length=512)]


CallerDep = NamedDependency[Caller]
UserDep = NamedDependency[UserService]

class UsersController(Controller):
    path = "/api/users"
    tags = ["users"]  # noqa: RUF012

    @post("/", status_code=201, summary="Register")
    async def register(self, data: UserCreate, users: UserDep) -> User:
        return await users.register(data)

    @get("/me", security=SECURITY, summary="The caller")
    async def me(self, caller: CallerDep, users: UserDep) -> User:
        return await users.get(caller, caller.user_id)

    @get("/{user_id:str}", security=SECURITY, summary="A user (self or admin)")
    async def get_user(self, user_id: UserId, caller: CallerDep, users: UserDep) -> User:
        return await users.get(caller, user_id)

    @get("/", security=SECURITY, summary="Every user (admin)")
    async def list_users(
        self, caller: CallerDep, users: UserDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> UserPage:
        return await users.list(caller, limit, cursor)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]  # noqa: RUF012

    @post("/login", status_code=200, summary="Log in: a bearer token")
    async def login(self, data: LoginRequest, users: UserDep) -> TokenResponse:
        return await users.login(data)
