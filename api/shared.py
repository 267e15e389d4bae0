"""State that every API replica must see: one setting, ``LOTSE_REDIS_URL``, decides where it lives.

Unset (``make run``, one process), it lives in this process's memory; set, in Redis, so replicas behind a load
balancer share rate limits, webhook deduplication, button payloads and messages between replicas. Both
implementations follow ``SharedState``; keys are strings, values are strings, every key expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

import redis.asyncio as redis
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from redis.exceptions import LockError

PREFIX = "lotse:"  # every key and channel, so a Redis shared with other software stays apart


class SharedState(Protocol):
    """Key/value with expiry, set-if-absent, delete, locks and publish/subscribe, plus the rate limiter's
    storage."""

    limits_storage: Storage

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set ``key`` only if it is absent (Redis ``SET NX EX``); True when this call set it."""

    async def delete(self, key: str) -> None: ...

    def lock(self, name: str, hold: float, wait: float) -> AbstractAsyncContextManager[bool]:
        """``async with state.lock(name, hold, wait) as held``: one holder at a time across replicas. Waits at
        most ``wait`` seconds (``held`` is False when it waited in vain); frees itself after ``hold`` seconds,
        so a replica that dies holding it blocks no one for long."""

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """``async with state.subscribe(ch) as messages: async for m in messages``; the messages published
        on ``ch`` (by any replica) while the block runs."""

    async def check(self) -> bool:
        """True when the storage answers (for readiness)."""

    async def close(self) -> None: ...


class MemoryState:
    """One process's shared state: a dict whose keys expire (swept on every write, so it cannot grow with
    keys nobody reads again), asyncio locks, and in-process queues for publish/subscribe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits_storage: Storage = MemoryStorage()
        self._clock = clock
        self._items: dict[str, tuple[str, float]] = {}
        self._expiries: list[tuple[float, str]] = []  # heap of (expires at, key); stale pairs are skipped
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __len__(self) -> int:
        return len(self._items)

    def _sweep(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            expires, key = heapq.heappop(self._expiries)
            item = self._items.get(key)
            if item is not None and item[1] == expires:
                del self._items[key]

    async def get(self, key: str) -> str | None:
        item = self._items.get(key)
        return item[0] if item is not None and item[1] > self._clock() else None

    async def set(self, key: str, value: str, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        self._items[key] = (value, now + ttl)
        heapq.heappush(self._expiries, (now + ttl, key))

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._items.pop(key, None)

    @asynccontextmanager
    async def lock(self, name: str, hold: float, wait: float) -> AsyncIterator[bool]:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()  # unused locks disappear with their last holder
        try:
            await asyncio.wait_for(lock.acquire(), timeout=wait)
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._subscribers.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.setdefault(channel, set()).add(queue)

        async def messages() -> AsyncIterator[str]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[channel].discard(queue)
            if not self._subscribers[channel]:
                del self._subscribers[channel]

    async def check(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class RedisState:
    """Shared state in Redis: what one replica writes, every replica reads."""

    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        # The rate limiter talks to the same server through the limits library's own redis-py client.
        self.limits_storage: Storage = RedisStorage(
            "async+" + url, implementation="redispy", key_prefix=PREFIX + "limits"
        )

    async def get(self, key: str) -> str | None:
        return await self._redis.get(PREFIX + key)

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(PREFIX + key, value, px=_milliseconds(ttl))

    async def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._redis.set(PREFIX + key, value, px=_milliseconds(ttl), nx=True))

    async def delete(self, key: str) -> None:
        await self._redis.delete(PREFIX + key)

    @asynccontextmanager
    async def lock(self, name: str, hold: float, wait: float) -> AsyncIterator[bool]:
        lock = self._redis.lock(PREFIX + "lock:" + name, timeout=hold, blocking_timeout=wait)
        if not await lock.acquire():
            yield False
            return
        try:
            yield True
        finally:
            with contextlib.suppress(LockError):  # held longer than ``hold``: it has freed itself already
                await lock.release()

    async def publish(self, channel: str, message: str) -> None:
        await self._redis.publish(PREFIX + channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(PREFIX + channel)

        async def messages() -> AsyncIterator[str]:
            async for message in pubsub.listen():
                if message["type"] == "message":
                    yield message["data"]

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def check(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except redis.RedisError:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


def _milliseconds(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def open_shared_state(redis_url: str | None) -> SharedState:
    """Redis when a URL is configured (``redis://[:password@]host:port/db``), else this process's memory."""
    return RedisState(redis_url) if redis_url else MemoryState()
