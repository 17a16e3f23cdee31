from __future__ import annotations

import jwt
import pytest

from services.kit.auth import Caller, bearer, issue_token, verify_token
from services.kit.errors import Unauthorized

SECRET = "a-test-secret-that-is-long-enough-for-hs256"
ALICE = Caller(user_id="u1", email="alice@example.com", role="user")


def _who(caller: Caller) -> tuple[str, str, str]:
    return caller.user_id, caller.email, caller.role


def test_issue_then_verify() -> None:
    token = issue_token(SECRET, ALICE, 60)
    verified = verify_token(SECRET, token)
    assert _who(verified) == _who(ALICE) and len(verified.token_id) == 32
    assert verify_token(SECRET, issue_token(SECRET, ALICE, 60)).token_id != verified.token_id
    assert not ALICE.is_admin and Caller("a", "a@x.io", "admin").is_admin


@pytest.mark.parametrize("token", [
    issue_token(SECRET, ALICE, 60, now=0),  # expired long ago
    issue_token("another-secret-that-is-long-enough-for-hs256", ALICE, 60),
    jwt.encode({"sub": "u1", "exp": 9_999_999_999, "iat": 0, "iss": "ecomctl-users"}, SECRET, algorithm="HS512"),
    jwt.encode({"sub": "u1", "exp": 9_999_999_999, "iat": 0, "iss": "someone-else"}, SECRET, algorithm="HS256"),
    jwt.encode({"sub": "u1", "iat": 0, "iss": "ecomctl-users"}, SECRET, algorithm="HS256"),  # no expiry
    jwt.encode({"sub": "u1", "exp": 9_999_999_999, "iat": 0, "iss": "ecomctl-users", "role": "root", "jti": "j"},
               SECRET, algorithm="HS256"),
    jwt.encode({"sub": "u1", "exp": 9_999_999_999, "iat": 0, "iss": "ecomctl-users"}, SECRET,
               algorithm="HS256"),  # no token id: cannot be revoked
    "not-a-token",
])
def test_bad_tokens_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized):
        verify_token(SECRET, token)


def test_unsigned_token_is_unauthorized() -> None:
    token = jwt.encode({"sub": "u1", "exp": 9_999_999_999, "iat": 0, "iss": "ecomctl-users"}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        verify_token(SECRET, token)


def test_bearer_header() -> None:
    assert bearer(None) is None and bearer("") is None
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    for bad in ("Basic abc", "Bearer", "Token abc"):
        with pytest.raises(Unauthorized):
            bearer(bad)


def test_verifier_remembers_valid_tokens_until_they_expire() -> None:
    import time

    from services.kit.auth import TokenVerifier

    verifier = TokenVerifier(SECRET)
    token = issue_token(SECRET, ALICE, 60)
    assert _who(verifier.verify(token)) == _who(ALICE) and verifier.verify(token) == verifier.verify(token)
    issued = int(time.time())
    short = issue_token(SECRET, ALICE, 1, now=issued)  # valid until issued + 1
    assert _who(verifier.verify(short)) == _who(ALICE)
    time.sleep(max(0.0, issued + 1.05 - time.time()))
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(short)
    with pytest.raises(Unauthorized):
        verifier.verify(token[:-2] + "xx")
