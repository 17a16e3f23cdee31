"""Bearer tokens: HS256 JWTs signed by the users service and verified everywhere."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt
import msgspec
from litestar import Request

from services.kit.errors import BadRequest, Forbidden, Unauthorized
from services.kit.revocations import Revocations

ALGORITHM = "HS256"
ISSUER = "ecomctl-users"


class Caller(msgspec.Struct, frozen=True):
    """Who sent the request (from a verified token)."""

    user_id: str
    email: str
    role: str
    token_id: str = ""  # the token's jti (what a logout revokes)
    expires_at: float = 0.0  # the token's exp

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(secret: str, caller: Caller, ttl_s: int, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims = {
        "sub": caller.user_id, "email": caller.email, "role": caller.role,
        "iat": issued, "exp": issued + ttl_s, "iss": ISSUER, "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def _verify(secret: str, token: str) -> tuple[Caller, float]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["sub", "exp", "iat", "iss", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the token has expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("the token is not valid") from None
    sub, email, role, jti = claims.get("sub"), claims.get("email", ""), claims.get("role", "user"), claims["jti"]
    if (not isinstance(sub, str) or not isinstance(email, str) or role not in {"user", "admin"}
            or not isinstance(jti, str)):
        raise Unauthorized("the token is not valid")
    expires = float(claims["exp"])
    return Caller(user_id=sub, email=email, role=role, token_id=jti, expires_at=expires), expires


def verify_token(secret: str, token: str) -> Caller:
    """The caller of a valid token; ``Unauthorized`` for anything else (expired, forged, malformed)."""
    return _verify(secret, token)[0]


class TokenVerifier:
    """``verify_token`` with a memo of tokens already verified (until they expire).

    Signature checks dominate the cost of an authenticated request at the gateway; a token is
    immutable, so its verdict can be reused until its ``exp``.
    """

    def __init__(self, secret: str, max_entries: int = 50_000, revocations: Revocations | None = None) -> None:
        self.secret = secret
        self.max_entries = max_entries
        self.revocations = revocations
        self._known: dict[str, tuple[Caller, float]] = {}

    def verify(self, token: str) -> Caller:
        caller = self._verified(token)
        if self.revocations is not None and self.revocations.revoked(caller.token_id):
            raise Unauthorized("the token was revoked (logged out)")
        return caller

    def _verified(self, token: str) -> Caller:
        known = self._known.get(token)
        if known is not None:
            if known[1] > time.time():
                return known[0]
            del self._known[token]
        caller, expires = _verify(self.secret, token)
        if len(self._known) >= self.max_entries:
            self._known.clear()
        self._known[token] = (caller, expires)
        return caller


def bearer(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when absent)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    return token.strip()


AUTHORIZATION = b"authorization"


def authorization_of(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The request's ``Authorization`` header (None when absent).

    More than one is a 400, at the gateway, in the services and on their raw ASGI routes alike
    (proxies disagree on which of several one honours, so none is).
    """
    found: str | None = None
    for name, value in headers:
        if name == AUTHORIZATION:
            if found is not None:
                raise BadRequest("more than one Authorization header")
            found = value.decode("latin-1")
    return found


class Callers:
    """The verified caller of a request, or 401.

    Every service's controllers are built by a function that binds them to the app's service
    and a ``Callers``; a handler calls ``callers.of(request)`` itself instead of declaring
    Litestar dependencies: Litestar resolves two independent dependencies of one handler (the
    caller and the service) concurrently in an anyio task group, which cost more CPU than the
    rest of the request.
    """

    def __init__(self, secret: str, revocations: Revocations | None = None) -> None:
        self.verifier = TokenVerifier(secret, revocations=revocations)

    def of(self, request: Request[Any, Any, Any]) -> Caller:
        return self.caller(authorization_of(request.scope["headers"]))

    def optional(self, request: Request[Any, Any, Any]) -> Caller | None:
        """The verified caller, or None for a request without ``Authorization`` (401 for a bad token)."""
        authorization = authorization_of(request.scope["headers"])
        return None if authorization is None else self.caller(authorization)

    def caller(self, authorization: str | None) -> Caller:
        """The caller of an ``Authorization`` header's value (None: the header is absent)."""
        token = bearer(authorization)
        if token is None:
            raise Unauthorized("this operation needs a bearer token")
        return self.verifier.verify(token)


def require_admin(caller: Caller) -> Caller:
    if not caller.is_admin:
        raise Forbidden("this operation is for administrators")
    return caller
