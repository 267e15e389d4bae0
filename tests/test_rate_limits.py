"""Rate limits: keys that expire, IPv6 clients by /64, defaults for many people behind one address, search and
entries limited too, failed admin tokens throttled. Through the real app (FastAPI's test client) where the
route matters, on the limiter itself where time or addresses must be controlled.

The sliding-window counter weighs the previous window's count by how much of it still overlaps, so right
after a window boundary (a new minute, for ``/minute``) a request more may pass. Tests that count exactly
use ``/day`` windows; the test of the per-minute defaults allows for that one request."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.config import Settings
from api.errors import ApiError
from api.security import RateLimits, client_key
from api.shared import MemoryState, RedisState
from tests.fakes import Upstreams


@pytest.fixture
def make_client(app_clients, knowledge):
    return lambda **overrides: app_clients(knowledge, admin_token="a" * 32, **overrides)


def limits_on(storage, per_ip: str = "1000/minute", per_session: str = "1000/minute") -> RateLimits:
    return RateLimits(storage, per_ip=per_ip, per_session=per_session, admin_failures="3/day")


@pytest.mark.anyio
async def test_memory_keys_of_old_sessions_expire() -> None:
    """20,000 one-off session ids leave nothing behind once their window has passed (two windows)."""
    state = MemoryState()
    limits = limits_on(state.limits_storage, per_session="5/second")
    for i in range(20_000):
        await limits.check_session("web", f"session-{i}")
    storage = state.limits_storage

    def keys() -> int:  # counters (window strategies) and event lists (moving window) of limits' memory storage
        return len(storage.storage) + len(storage.events)

    assert keys() >= 20_000
    await asyncio.sleep(2.1)
    await limits.check_session("web", "one-more")
    await asyncio.sleep(0.5)  # the storage sweeps expired keys in a task of its own
    assert keys() <= 2


@pytest.mark.anyio
async def test_redis_keys_have_an_expiry(redis_url: str) -> None:
    import redis.asyncio as redis

    state = RedisState(redis_url)
    limits = limits_on(state.limits_storage)
    session = uuid.uuid4().hex
    await limits.check_session("web", session)
    await limits.check_ip("192.0.2.7")
    client = redis.Redis.from_url(redis_url)
    keys = [k async for k in client.scan_iter(match="lotse:limits*")]
    assert any(session.encode() in k for k in keys)
    expiries = [await client.pttl(k) for k in keys]
    assert all(0 < ms <= 2 * 60_000 for ms in expiries)
    await client.aclose()
    await state.close()


def test_ipv6_clients_are_keyed_by_their_64_network() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1" and client_key("192.0.2.1") == "192.0.2.1"
    assert client_key("testclient") == "testclient"  # not an address: kept as it is


@pytest.mark.anyio
async def test_one_ipv6_network_shares_one_limit() -> None:
    limits = limits_on(MemoryState().limits_storage, per_ip="2/day")
    await limits.check_ip("2001:db8::1")
    await limits.check_ip("2001:db8::2")
    with pytest.raises(ApiError) as refused:
        await limits.check_ip("2001:db8::ffff:3")
    assert refused.value.status == 429
    await limits.check_ip("2001:db8:0:1::1")  # the neighbouring /64 is someone else


def test_defaults_let_a_shelter_share_one_address_but_not_one_conversation(make_client) -> None:
    defaults = Settings()
    client = make_client(rate_limit_ip=defaults.rate_limit_ip, rate_limit_session=defaults.rate_limit_session)
    people = [
        client.post("/api/v1/chat", json={"session_id": f"person-{i}", "message": "hallo"}).status_code
        for i in range(300)
    ]
    assert people == [200] * 300  # 300 people behind one address, one message each within a minute
    one = [client.post("/api/v1/chat", json={"session_id": "busy", "message": "hi"}).status_code for _ in range(17)]
    assert one[:15] == [200] * 15 and 429 in one[15:]


def test_search_and_entries_are_limited_per_address(make_client) -> None:
    client = make_client(rate_limit_ip="4/day")
    statuses = [client.get("/api/v1/search", params={"q": "Wohnung anmelden"}).status_code for _ in range(2)]
    statuses += [client.get("/api/v1/entries/arrival.registration").status_code for _ in range(2)]
    assert statuses == [200, 200, 200, 200]
    refused = client.get("/api/v1/search", params={"q": "Kita"})
    assert refused.status_code == 429 and refused.headers["retry-after"].isdigit()
    assert client.get("/api/v1/entries/arrival.registration").status_code == 429
    assert client.post("/api/v1/chat", json={"session_id": "s", "message": "hi"}).status_code == 429  # one budget


def test_failed_admin_tokens_are_throttled(make_client, upstreams: Upstreams) -> None:
    client = make_client(rate_limit_admin_failures="3/day")
    wrong = {"authorization": "Bearer " + "b" * 32}
    right = {"authorization": "Bearer " + "a" * 32}
    assert client.post("/api/v1/admin/reload", headers=right).status_code == 200  # successes are not counted
    assert [client.post("/api/v1/admin/reload", headers=wrong).status_code for _ in range(3)] == [401] * 3
    refused = client.post("/api/v1/admin/reload", headers=right)  # even the right token waits now
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_wrong_dashboard_tokens_are_throttled_like_admin_ones(make_client, upstreams: Upstreams) -> None:
    """The dashboard accepts the admin token, so guessing it there counts against the same budget."""
    client = make_client(rate_limit_admin_failures="3/day")
    right = {"authorization": "Bearer " + "a" * 32}
    assert client.get("/api/v1/stats").status_code == 401  # no token: a browser's first request, not counted
    assert client.get("/api/v1/stats", headers=right).status_code == 200
    wrong = [client.get("/api/v1/stats", headers={"authorization": f"Bearer {'c' * 31}{i}"}) for i in range(3)]
    assert [r.status_code for r in wrong] == [401] * 3
    refused = client.get("/api/v1/stats", headers=right)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert client.post("/api/v1/admin/reload", headers=right).status_code == 429  # one budget for both
