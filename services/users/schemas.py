"""Request and response bodies of the users API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class UserCreate(msgspec.Struct, forbid_unknown_fields=False):
    name: Name
    email: Email
    password: Password


class LoginRequest(msgspec.Struct):
    email: Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class User(msgspec.Struct):
    id: str
    name: str
    email: str
    role: str
    created_at: str


class UserPage(msgspec.Struct):
    items: list[User]
    next_cursor: str | None
