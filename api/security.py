"""Abuse protection at the edge: request size, rate limits (``limits`` library), allowed origins."""

from __future__ import annotations

import hmac
import json
import math
import time

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import ApiError, error_body


class RateLimits:
    """Per-IP and per-session limits in process memory (use a shared storage URI for several replicas)."""

    def __init__(self, per_ip: str, per_session: str) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_ip = parse(per_ip)
        self._per_session = parse(per_session)

    def _hit(self, item, *keys: str) -> None:
        if not self._limiter.hit(item, *keys):
            reset = self._limiter.get_window_stats(item, *keys).reset_time
            retry = max(1, math.ceil(reset - time.time()))
            raise ApiError(
                429,
                "rate_limited",
                "Too many messages. Please wait a moment and try again.",
                headers={"Retry-After": str(retry)},
            )

    def check_ip(self, ip: str) -> None:
        self._hit(self._per_ip, "ip", ip)

    def check_session(self, channel: str, session: str) -> None:
        self._hit(self._per_session, "session", channel, session)


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
