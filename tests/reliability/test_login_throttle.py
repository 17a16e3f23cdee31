"""Login throttling through the gateway: per account and per address (429 + Retry-After), decided
before hashing, and real logins that stay fast while a flood of bad logins arrives.

Loopback has every 127.0.0.0/8 address: each client below connects from its own, fresh each run
(the users service remembers an address's attempts for 5 minutes), so the gateway sees distinct
callers.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from ecomctl.local.platform import LocalPlatform
from services.users.throttle import Limits
from tests.services.conftest import Account, loopback_addresses

pytestmark = pytest.mark.platform
PASSWORD = "correct horse battery"


def _client(platform: LocalPlatform, address: str) -> httpx.Client:
    return httpx.Client(base_url=platform.gateway_url, timeout=15,
                        transport=httpx.HTTPTransport(local_address=address))


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_an_account_is_throttled_after_repeated_failures(
    platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    victim = new_user()
    here, there = loopback_addresses(2)
    with _client(platform, here) as guesser, _client(platform, there) as owner:
        codes = [_login(guesser, victim.email, f"wrong-{n}-password").status_code for n in range(10)]
        assert codes == [401] * 10
        refused = _login(guesser, victim.email, "wrong-again-password")
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        assert refused.headers["content-type"].startswith("application/problem+json")
        # the account is throttled from any address, even with the right password, until Retry-After
        assert _login(owner, victim.email.upper(), PASSWORD).status_code == 429


def test_an_address_is_throttled_after_repeated_failures(
    platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    someone = new_user()
    here, there = loopback_addresses(2)
    with _client(platform, here) as sprayer, _client(platform, there) as other:
        for n in range(20):
            answer = _login(sprayer, f"nobody-{uuid.uuid4().hex[:8]}@example.com", "some-password")
            assert answer.status_code == 401, (n, answer.text)
        refused = _login(sprayer, someone.email, PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert _login(other, someone.email, PASSWORD).status_code == 200  # other addresses are unaffected


@pytest.mark.slow
def test_real_logins_stay_fast_under_a_flood_of_bad_logins(
    platform: LocalPlatform, new_user: Callable[[], Account]
) -> None:
    """~200 bad logins/s for 8 s from 10 addresses; a real login every 0.2 s from another.

    Behaviour only (latency targets belong to benchmarks): every real login succeeds, and the
    flood is refused before hashing: past the address limit, every attempt is refused unhashed.
    """
    real = new_user()
    rate, seconds, (*flooders, own) = 200, 8.0, loopback_addresses(11)

    async def scenario() -> tuple[list[float], list[int], dict[int, int]]:
        limits = httpx.Limits(max_connections=40)
        floods = [httpx.AsyncClient(base_url=platform.gateway_url, timeout=10, limits=limits,
                                    transport=httpx.AsyncHTTPTransport(local_address=a, limits=limits))
                  for a in flooders]
        user = httpx.AsyncClient(base_url=platform.gateway_url, timeout=10,
                                 transport=httpx.AsyncHTTPTransport(local_address=own))
        flood_codes: dict[int, int] = {}
        latencies: list[float] = []
        real_codes: list[int] = []

        async def bad(n: int) -> None:
            try:
                answer = await floods[n % len(floods)].post(
                    "/api/auth/login", json={"email": f"x{n}@example.com", "password": "wrong-password"})
                flood_codes[answer.status_code] = flood_codes.get(answer.status_code, 0) + 1
            except httpx.HTTPError:
                flood_codes[0] = flood_codes.get(0, 0) + 1

        async def flood() -> None:
            pending: set[asyncio.Task[None]] = set()
            start = time.monotonic()
            for n in range(int(rate * seconds)):
                await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
                task = asyncio.create_task(bad(n))
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)

        async def logins() -> None:
            await asyncio.sleep(1.0)  # the flood is running
            deadline = time.monotonic() + seconds - 1.5
            while time.monotonic() < deadline:
                began = time.monotonic()
                answer = await user.post("/api/auth/login", json={"email": real.email, "password": PASSWORD})
                latencies.append(time.monotonic() - began)
                real_codes.append(answer.status_code)
                await asyncio.sleep(0.2)

        try:
            await asyncio.gather(flood(), logins())
        finally:
            for client in [*floods, user]:
                await client.aclose()
        return latencies, real_codes, flood_codes

    latencies, real_codes, flood_codes = asyncio.run(scenario())
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    print(f"real logins: {len(latencies)}, p95 {p95:.3f} s (wall clock, shared CPU); flood answers {flood_codes}")
    assert real_codes and set(real_codes) == {200}, real_codes
    assert set(flood_codes) <= {401, 429, 503}, flood_codes
    # hashed: at most the address limit per address (the rest refused unhashed), not 1,600
    admitted = Limits().address_failures * len(flooders)
    assert flood_codes.get(401, 0) <= admitted < rate * seconds
    assert flood_codes.get(429, 0) >= rate * seconds - admitted
    assert flood_codes.get(429, 0) > 10 * flood_codes.get(401, 0)
