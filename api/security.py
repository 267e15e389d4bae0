"""Abuse protection at the edge: request size, rate limits (``limits`` library), allowed origins."""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import time

from fastapi import Request
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError, error_body


class RateLimits:
    """Limits in the shared state's storage (api/shared.py), so replicas share them: requests per client
    address (chat, search, entries), messages per conversation, and failed admin-token attempts per address.

    The sliding-window counter keeps two counters per key that expire after two windows, in memory as in
    Redis, so new session ids cannot make the store grow without bound."""

    def __init__(self, storage: Storage, per_ip: str, per_session: str, admin_failures: str) -> None:
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._per_ip = parse(per_ip)
        self._per_session = parse(per_session)
        self._admin_failures = parse(admin_failures)

    async def _hit(self, item: RateLimitItem, keys: tuple[str, ...], message: str) -> None:
        if not await self._limiter.hit(item, *keys):
            await self._refuse(item, keys, message)

    async def _refuse(self, item: RateLimitItem, keys: tuple[str, ...], message: str) -> None:
        reset = (await self._limiter.get_window_stats(item, *keys)).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        raise ApiError(429, "rate_limited", message, headers={"Retry-After": str(retry)})

    async def check_ip(self, ip: str) -> None:
        await self._hit(self._per_ip, ("ip", client_key(ip)), "Too many requests. Please wait a moment and try again.")

    async def check_session(self, channel: str, session: str) -> None:
        await self._hit(
            self._per_session, ("session", channel, session), "Too many messages. Please wait a moment and try again."
        )

    async def check_admin_attempts(self, ip: str) -> None:
        """429 while this address has used up its failed admin-token attempts (even with the right token)."""
        keys = ("admin-failed", client_key(ip))
        if not await self._limiter.test(self._admin_failures, *keys):
            await self._refuse(self._admin_failures, keys, "Too many failed attempts. Please try again later.")

    async def admin_failed(self, ip: str) -> None:
        await self._limiter.hit(self._admin_failures, "admin-failed", client_key(ip))


def client_key(ip: str) -> str:
    """The rate-limit key of a client address: IPv6 clients by their /64 network, because one connection
    gets a whole /64 and may pick a fresh address from it for every request."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_ip(request: Request) -> str:
    """The connection's address; behind a trusted proxy uvicorn has already put the real client's there
    (``forwarded_allow_ips``, api/main.py)."""
    return request.client.host if request.client else "unknown"


def same_secret(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class BodySizeLimit:
    """Refuse request bodies above ``max_bytes`` with 413 before they reach a route (pure ASGI)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send, 413, "payload_too_large", f"Request body is larger than {self.max_bytes} bytes.")
            return
        if declared is None and b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            # The server checks that a body matches its Content-Length; without one, we could not bound it.
            await self._refuse(send, 411, "length_required", "Send the request with a Content-Length header.")
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps(error_body(code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})


class TenantCORSMiddleware(CORSMiddleware):
    """CORS for the origins that tenants allow (read at request time, so tenant edits apply on reload)."""

    def __init__(self, app: ASGIApp, allowed_origins, **kwargs) -> None:
        super().__init__(
            app,
            allow_origins=[],
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["content-type"],
            max_age=600,
            **kwargs,
        )
        self._allowed_origins = allowed_origins  # callable returning a set of origins

    def is_allowed_origin(self, origin: str) -> bool:
        return origin.rstrip("/") in self._allowed_origins()
