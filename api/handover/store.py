"""The handover's state in the shared state (api/shared.py): every replica sees it, it survives restarts of
the API, and every key expires (``HandoverStore.keep_seconds`` after the last change).

Keys: ``handover:conv:<sender>`` the conversation's handover (JSON ``Record``), ``handover:ticket:<tenant>:<id>``
the conversation a ticket belongs to, ``handover:offer:<sender>`` a pending question (consent or callback),
``handover:transcript:<sender>`` the last turns (for the first article), ``handover:queue:<sender>`` platform
calls not yet done, ``handover:pending`` the senders with a queue, ``handover:inbox:<sender>`` counsellor
replies for the widget, ``handover:held:<sender>`` replies waiting for WhatsApp's window;
``seen:zammad:<delivery>`` webhook deliveries already handled.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

from api.shared import SharedState

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read out on the phone
TRANSCRIPT_TURNS = 20
INBOX_SIZE = 50
LOCK_SECONDS = 60.0  # longer than the platform calls one holder makes (each times out after 10 s)
LOCK_WAIT_SECONDS = 15.0


@dataclass
class Record:
    """One conversation's handover. ``ticket`` is None until the platform accepted the ticket."""

    tenant: str
    sender: str  # the conversation's pseudonym (api/pseudonyms.py): "web:…", "tg:…", "wa:…"
    reference: str
    locale: str
    owner: Literal["counsellor", "bot"]  # "bot": a callback question, or a handover that has ended
    ticket: str | None = None
    last_user_at: float = 0.0  # epoch seconds of the person's last message (WhatsApp's 24-hour window)
    # Where messenger replies go (Telegram chat id, WhatsApp wa_id): a counsellor's reply must reach the person,
    # so the real id is kept with the handover, and nowhere else. Empty for the widget.
    chat: str = ""

    @property
    def channel(self) -> str:
        return {"web": "web", "tg": "telegram", "wa": "whatsapp"}[self.sender.split(":", 1)[0]]


def new_reference() -> str:
    """A short code the person can quote: ``L-7K3QX`` (31^5 ≈ 29 million)."""
    return "L-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(5))


class HandoverStore:
    def __init__(self, shared: SharedState, keep_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.shared = shared
        self.keep_seconds = keep_seconds
        self.clock = clock

    # --- JSON values and a lock across replicas -------------------------------------------------------------

    async def _load(self, key: str, default: Any) -> Any:
        raw = await self.shared.get(key)
        return json.loads(raw) if raw else default

    async def _save(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.shared.set(key, json.dumps(value, ensure_ascii=False), ttl or self.keep_seconds)

    @asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        """One replica at a time changes ``name``'s lists (set-if-absent; expires if its holder dies)."""
        key = f"lock:handover:{name}"
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not await self.shared.add(key, "1", LOCK_SECONDS):
            if time.monotonic() > deadline:
                raise TimeoutError(f"handover lock {name} held too long")
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            await self.shared.delete(key)

    # --- who owns a conversation ----------------------------------------------------------------------------

    async def record(self, sender: str) -> Record | None:
        data = await self._load(f"handover:conv:{sender}", None)
        return Record(**data) if data else None

    async def save_record(self, record: Record) -> None:
        await self._save(f"handover:conv:{record.sender}", asdict(record))
        if record.ticket:
            await self.shared.set(f"handover:ticket:{record.tenant}:{record.ticket}", record.sender, self.keep_seconds)

    async def sender_for_ticket(self, tenant: str, ticket: str) -> str | None:
        return await self.shared.get(f"handover:ticket:{tenant}:{ticket}")

    # --- pending questions ----------------------------------------------------------------------------------

    async def offer(self, sender: str) -> tuple[str, str] | None:
        """(kind, locale) of the question the person was asked: "consent" or "callback"."""
        raw = await self.shared.get(f"handover:offer:{sender}")
        return tuple(raw.split(":", 1)) if raw else None  # type: ignore[return-value]

    async def set_offer(self, sender: str, kind: str | None, locale: str = "", ttl: float = 1800.0) -> None:
        if kind is None:
            await self.shared.delete(f"handover:offer:{sender}")
        else:
            await self.shared.set(f"handover:offer:{sender}", f"{kind}:{locale}", ttl)

    # --- the transcript so far ------------------------------------------------------------------------------

    async def transcript(self, sender: str) -> list[dict[str, Any]]:
        return await self._load(f"handover:transcript:{sender}", [])

    async def add_to_transcript(self, sender: str, lines: list[dict[str, Any]], ttl: float) -> None:
        kept = (await self.transcript(sender) + lines)[-TRANSCRIPT_TURNS * 3 :]
        await self._save(f"handover:transcript:{sender}", kept, ttl)

    # --- platform calls not yet done ------------------------------------------------------------------------

    async def queue(self, sender: str) -> list[dict[str, Any]]:
        return await self._load(f"handover:queue:{sender}", [])

    async def set_queue(self, sender: str, operations: list[dict[str, Any]]) -> None:
        """Store what is left to do (under ``lock(sender)``) and keep the list of senders with work current."""
        if operations:
            await self._save(f"handover:queue:{sender}", operations)
        else:
            await self.shared.delete(f"handover:queue:{sender}")
        async with self.lock("pending"):
            pending = set(await self._load("handover:pending", []))
            pending = pending | {sender} if operations else pending - {sender}
            await self._save("handover:pending", sorted(pending))

    async def pending(self) -> list[str]:
        return await self._load("handover:pending", [])

    # --- counsellor replies for the widget ------------------------------------------------------------------

    async def inbox(self, sender: str) -> list[dict[str, Any]]:
        return await self._load(f"handover:inbox:{sender}", [])

    async def add_to_inbox(self, sender: str, message: dict[str, Any]) -> dict[str, Any]:
        """Number the message (ids grow per conversation, for Last-Event-ID), keep it and announce it."""
        async with self.lock(f"inbox:{sender}"):
            inbox = await self.inbox(sender)
            message = {"id": (inbox[-1]["id"] + 1 if inbox else 1), **message}
            await self._save(f"handover:inbox:{sender}", (inbox + [message])[-INBOX_SIZE:])
        await self.shared.publish(f"handover:{sender}", json.dumps(message, ensure_ascii=False))
        return message

    async def hold(self, sender: str, text: str) -> None:
        """A counsellor reply that cannot be sent now (WhatsApp's window is closed): sent when the person writes."""
        async with self.lock(f"held:{sender}"):
            await self._save(f"handover:held:{sender}", (await self._load(f"handover:held:{sender}", [])) + [text])

    async def take_held(self, sender: str) -> list[str]:
        async with self.lock(f"held:{sender}"):
            held = await self._load(f"handover:held:{sender}", [])
            await self.shared.delete(f"handover:held:{sender}")
        return held

    def subscribe(self, sender: str):
        return self.shared.subscribe(f"handover:{sender}")

    async def first_delivery(self, platform: str, delivery_id: str) -> bool:
        return await self.shared.add(f"seen:{platform}:{delivery_id}", "1", 7 * 24 * 3600)
