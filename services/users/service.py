"""Account rules: registration, login, the seeded admin, who may read whom."""

from __future__ import annotations

import logging
import time
import uuid

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.kit.auth import Caller, issue_token
from services.kit.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, Unavailable
from services.kit.events import utc_now
from services.kit.pagination import decode_cursor, encode_cursor
from services.kit.revocations import Revocations
from services.users.schemas import LoginRequest, TokenResponse, User, UserCreate, UserPage
from services.users.store import EmailTaken, UserStore
from services.users.throttle import LoginThrottle

log = logging.getLogger("services.users")

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and cheap enough to register in tests.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_DUMMY_HASH = HASHER.hash("timing-equaliser")
_HASH_LIMITER = anyio.CapacityLimiter(2)
PROFILE_CACHE_S = 5.0
PROFILE_CACHE_ENTRIES = 50_000
MAX_EMAIL = 254  # the column's width, in characters


def normalised_email(email: str) -> str:
    """The stored form of an e-mail: trimmed and lower-cased (which can lengthen it: 'İ' -> 'i̇')."""
    normal = email.strip().lower()
    if len(normal) > MAX_EMAIL:
        raise Invalid(f"the e-mail is longer than {MAX_EMAIL} characters once lower-cased")
    return normal


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(HASHER.hash, password, limiter=_HASH_LIMITER)


async def verify_password(password_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return HASHER.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(verify, limiter=_HASH_LIMITER)


class UserService:
    def __init__(self, store: UserStore, jwt_secret: str, token_ttl_s: int,
                 revocations: Revocations | None = None) -> None:
        self.store = store
        self.revocations = revocations
        self.jwt_secret = jwt_secret
        self.token_ttl_s = token_ttl_s
        # Profiles cannot change through the API (no update or delete route): a short cache is exact.
        self._profiles: dict[str, tuple[float, User]] = {}
        self.throttle = LoginThrottle()

    async def register(self, data: UserCreate, role: str = "user") -> User:
        now = utc_now()
        user = User(
            id=uuid.uuid4().hex, name=data.name.strip() or data.name, email=normalised_email(data.email),
            role=role, created_at="",
        )
        try:
            await self.store.insert(user, await hash_password(data.password), now)
        except EmailTaken:
            raise Conflict("an account with this e-mail exists") from None
        stored = await self.store.by_id(user.id)
        assert stored is not None
        return stored

    async def login(self, data: LoginRequest, address: str = "") -> TokenResponse:
        """A token for the right password; 429 when the account or the address failed too often."""
        email = normalised_email(data.email)
        priority = self.throttle.admit(email, address)
        try:
            found = await self.store.credentials(email)
            password_hash = _DUMMY_HASH if found is None else found[1]  # same cost for an unknown account
            right = await self.throttle.gate.run(priority, lambda: verify_password(password_hash, data.password))
        finally:
            self.throttle.settled(address)
        if found is None or not right:
            self.throttle.failed(email)
            raise Unauthorized("wrong e-mail or password")
        self.throttle.succeeded(email, address)
        user = found[0]
        if HASHER.check_needs_rehash(password_hash):
            await self.store.set_password_hash(user.id, await hash_password(data.password))
        caller = Caller(user_id=user.id, email=user.email, role=user.role)
        return TokenResponse(
            access_token=issue_token(self.jwt_secret, caller, self.token_ttl_s),
            token_type="bearer", expires_in=self.token_ttl_s,
        )

    async def logout(self, caller: Caller) -> None:
        """Revoke the caller's token: every service refuses it within a second (services.kit.revocations)."""
        if self.revocations is None:
            raise Unavailable("logout is not available: no revocation list is configured")
        await self.revocations.revoke(caller.token_id, caller.expires_at)

    async def get(self, caller: Caller, user_id: str) -> User:
        if caller.user_id != user_id and not caller.is_admin:
            raise NotFound("no such user")
        cached = self._profiles.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        user = await self.store.by_id(user_id)
        if user is None:
            raise NotFound("no such user")
        if len(self._profiles) >= PROFILE_CACHE_ENTRIES:
            self._profiles.clear()
        self._profiles[user_id] = (time.monotonic() + PROFILE_CACHE_S, user)
        return user

    async def list(self, caller: Caller, limit: int, cursor: str | None) -> UserPage:
        if not caller.is_admin:
            raise Forbidden("listing users is for administrators")
        position = decode_cursor(cursor)
        after = position.get("seq") if position else None
        users, next_seq = await self.store.page(after if isinstance(after, int) else None, limit)
        next_cursor = None if next_seq is None else encode_cursor({"seq": next_seq})
        return UserPage(items=users, next_cursor=next_cursor)

    async def seed_admin(self, email: str, password: str) -> None:
        """Create the admin account from the environment if it does not exist yet."""
        if not email or not password:
            log.warning("ADMIN_EMAIL/ADMIN_PASSWORD unset: no admin account seeded")
            return
        if await self.store.credentials(normalised_email(email)) is not None:
            return
        try:
            admin = UserCreate(name="Administrator", email=email, password=password)
            await self.register(admin, role="admin")
            log.info("seeded the admin account")
        except Conflict:
            pass  # another replica seeded it first
