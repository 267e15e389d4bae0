"""The shared state (api/shared.py) in process memory and on a real Redis server: the same behaviour."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from api.shared import MemoryState, RedisState, SharedState

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def shared(request: pytest.FixtureRequest):
    state: SharedState = (
        MemoryState() if request.param == "memory" else RedisState(request.getfixturevalue("redis_url"))
    )
    yield state
    await state.close()


def key() -> str:
    return uuid.uuid4().hex


async def test_values_expire(shared: SharedState) -> None:
    k = key()
    await shared.set(k, "v", ttl=0.2)
    assert await shared.get(k) == "v"
    await asyncio.sleep(0.3)
    assert await shared.get(k) is None


async def test_add_sets_only_once_until_expiry_or_delete(shared: SharedState) -> None:
    k = key()
    assert await shared.add(k, "first", ttl=60) and not await shared.add(k, "second", ttl=60)
    assert await shared.get(k) == "first"
    await shared.delete(k)
    assert await shared.add(k, "third", ttl=0.2)
    await asyncio.sleep(0.3)
    assert await shared.add(k, "fourth", ttl=60)


async def test_published_messages_reach_every_subscriber_of_the_channel(shared: SharedState) -> None:
    channel = key()
    async with shared.subscribe(channel) as first, shared.subscribe(channel) as second:
        await asyncio.sleep(0.05)  # Redis confirms a subscription asynchronously
        await shared.publish(key(), "elsewhere")
        await shared.publish(channel, "hello")
        got = await asyncio.wait_for(asyncio.gather(anext(first), anext(second)), timeout=5)
    assert got == ["hello", "hello"]


async def test_check_answers(shared: SharedState) -> None:
    assert await shared.check()


async def test_memory_state_forgets_expired_keys_nobody_reads() -> None:
    now = [0.0]
    state = MemoryState(clock=lambda: now[0])
    for i in range(1000):
        await state.set(f"session-{i}", "1", ttl=10)
    now[0] = 11.0
    await state.set("new", "1", ttl=10)
    assert len(state) == 1


async def test_redis_unreachable_is_reported_not_raised() -> None:
    state = RedisState("redis://127.0.0.1:1/0")
    assert not await state.check()
    await state.close()


async def test_a_lock_has_one_holder_and_frees_itself_after_hold(shared: SharedState) -> None:
    name, order = key(), []

    async def turn(label: str) -> None:
        async with shared.lock(name, hold=5, wait=5) as held:
            assert held
            order.append(f"{label} in")
            await asyncio.sleep(0.2)
            order.append(f"{label} out")

    await asyncio.gather(turn("a"), turn("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    async with shared.lock(name, hold=5, wait=5), shared.lock(name, hold=5, wait=0.2) as held:
        assert not held  # waited in vain


async def test_a_redis_lock_left_by_a_dead_holder_frees_itself(redis_url: str) -> None:
    state, name = RedisState(redis_url), key()
    async with state.lock(name, hold=0.3, wait=1) as held:
        assert held
        async with state.lock(name, hold=1, wait=1) as second:  # the first holder "hangs" past its hold time
            assert second
    await state.close()
