"""What Lotse needs from a counselling platform: one interface, one implementation per platform.

A platform keeps one *ticket* per handover. Lotse opens it with the transcript, appends the person's further
messages, adds internal notes for counsellors and closes it when the person goes back to the bot; the
platform's webhook tells Lotse about counsellor replies and closed tickets (``read_event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol


class PlatformUnavailable(Exception):
    """The platform could not be reached or refused the request; the caller queues and retries."""


class BadSignature(Exception):
    """A webhook without a valid signature."""


@dataclass(frozen=True)
class TopicLink:
    """A topic the bot matched, in German so that every counsellor can read it."""

    title: str
    url: str


@dataclass(frozen=True)
class Opening:
    """Everything the first message of a handover carries; no name, no phone number, no chat id."""

    reference: str  # the short code the person can quote (also in the ticket title)
    pseudonym: str  # stable per conversation, not reversible to the chat id
    locale: str
    language: str  # the locale's English name, for the title
    transcript: list[tuple[str, str]]  # (who, text), oldest first
    topics: list[TopicLink] = field(default_factory=list)
    callback: bool = False  # left as a question outside hours: no one is waiting in the chat


@dataclass(frozen=True)
class CounsellorEvent:
    """What a platform webhook reports about one ticket."""

    ticket_id: str
    kind: Literal["reply", "closed"]
    text: str = ""


class HandoverAdapter(Protocol):
    async def open(self, opening: Opening) -> str:
        """Create the ticket; returns its id. Raises PlatformUnavailable."""

    async def append(self, ticket_id: str, text: str) -> None:
        """Add a message the person wrote. Raises PlatformUnavailable."""

    async def note(self, ticket_id: str, text: str) -> None:
        """Add an internal note only counsellors see. Raises PlatformUnavailable."""

    async def close(self, ticket_id: str) -> None:
        """The person went back to the bot. Raises PlatformUnavailable."""

    def read_event(self, headers: Mapping[str, str], body: bytes) -> CounsellorEvent | None:
        """A webhook delivery -> the event in it (None: nothing for the person). Raises BadSignature, or
        ValueError for a body that is not the platform's payload."""

    def delivery_id(self, headers: Mapping[str, str]) -> str | None:
        """The platform's id of one webhook delivery, for deduplication of retries."""
