"""Talks to the Rasa server's REST channel (internal, never exposed publicly)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from pydantic import ValidationError

from bot.messages import BotMessage, SourceJSON
from knowledge.models import Source

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not be reached or answered with an error."""


def parse_messages(raw: Any) -> list[BotMessage]:
    """Rasa's REST output -> bot messages. Plain Rasa messages (text/buttons) are accepted too."""
    if not isinstance(raw, list):
        raise RasaUnavailable(f"unexpected response from Rasa: {type(raw).__name__}")
    messages: list[BotMessage] = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        custom = item.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            message = BotMessage(**{k: v for k, v in custom.items() if k in BotMessage.__annotations__})
            message["sources"] = _valid_sources(custom.get("sources"))
            messages.append(message)
        elif isinstance(item.get("text"), str):
            buttons = [
                {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
                for b in item.get("buttons") or []
                if isinstance(b, dict)
            ]
            messages.append(BotMessage(text=item["text"], buttons=buttons))
    return messages


def _valid_sources(raw: Any) -> list[SourceJSON]:
    """Only what is a ``Source`` (https link with a title) is shown as one."""
    valid: list[SourceJSON] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            source = Source.model_validate(item)
        except ValidationError:
            continue
        valid.append(SourceJSON(title=source.title, url=source.url))
    return valid


class CircuitBreaker:
    """After ``failures`` failed turns in a row, the breaker opens: for ``open_seconds`` every turn fails at once
    (the caller answers from the knowledge search) instead of waiting for a timeout. Then one turn may try
    again; its success closes the breaker, its failure opens it for another period.

    Thirty lines against a library (pybreaker and friends): this needs no storage, no listeners and no
    decorator, and its state is per process on purpose (each API replica sees its own path to Rasa)."""

    def __init__(self, failures: int, open_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failures
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def open(self) -> bool:
        return self._opened_at is not None

    def allow(self) -> bool:
        """May this turn go to Rasa? While open: no, except one trial turn once the period is over."""
        if self._opened_at is None:
            return True
        if self._trial or self._clock() - self._opened_at < self._open_seconds:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        if self._opened_at is not None:
            log.info("dialogue service answers again: circuit closed")
        self._failures, self._opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        self._failures += 1
        self._trial = False
        if self._failures >= self._threshold:
            if self._opened_at is None:
                log.warning("dialogue service failing: circuit open", extra={"failures": self._failures})
            self._opened_at = self._clock()


class RasaClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        retries: int = 2,
        backoff_seconds: float = 0.25,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._http = http
        self._url = base_url.rstrip("/")
        self._retries = retries
        self._backoff = backoff_seconds
        self.breaker = breaker or CircuitBreaker(failures=3, open_seconds=30.0)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """One user turn, unless the circuit breaker is open (then ``RasaUnavailable`` at once)."""
        if not self.breaker.allow():
            raise RasaUnavailable("circuit open after repeated failures")
        try:
            messages = await self._send(sender, text, metadata)
        except RasaUnavailable:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return messages

    async def _send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotMessage]:
        """Retries only when the connection could not be made (the message was not delivered), so a turn is
        never processed twice."""
        body = {"sender": sender, "message": text, "metadata": metadata}
        for attempt in range(self._retries + 1):
            try:
                response = await self._http.post(f"{self._url}/webhooks/rest/webhook", json=body)
                response.raise_for_status()
                return parse_messages(response.json())
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                if attempt == self._retries:
                    raise RasaUnavailable(f"Rasa not reachable: {exc.__class__.__name__}") from exc
                await asyncio.sleep(self._backoff * 2**attempt)
            except (httpx.HTTPError, ValueError) as exc:
                raise RasaUnavailable(f"Rasa failed: {exc.__class__.__name__}") from exc
        raise RasaUnavailable("unreachable")  # pragma: no cover - loop always returns or raises

    async def alive(self) -> bool:
        try:
            response = await self._http.get(f"{self._url}/", timeout=2.0)
            return response.status_code == 200
        except httpx.HTTPError:
            return False
