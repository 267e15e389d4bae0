"""The contracts between the processes: what the API sends with a user's message (``TurnMetadata``) and the
message the bot sends back (``BotMessage``, one JSON object per bot message).

Every bot message (from the NLG endpoint, a custom action or the API's knowledge-only path) travels through
Rasa as a ``custom`` payload of this shape, so the API receives text, buttons, sources and flags together in
one piece. A source is a ``knowledge.models.Source`` everywhere in Python; on the wire it is its JSON form.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from knowledge.models import Source

__all__ = [
    "BotMessage",
    "ButtonPayload",
    "LocaleSource",
    "SourceJSON",
    "TurnMetadata",
    "bot_message",
    "button",
    "intent_payload",
    "parse_payload",
    "turn_metadata",
]

# Where the API's locale for a message came from; the bot decides the session's language with it.
LocaleSource = Literal["explicit", "detected", "channel", "default"]


class TurnMetadata(TypedDict, total=False):
    """Sent by the API with every user message (Rasa passes it to the actions as message metadata)."""

    locale: str
    locale_source: LocaleSource
    tenant: str
    channel: str
    query_vector: dict[str, str]  # the message's embedding (``knowledge.embedding.QUERY_VECTOR``), if made


class ButtonPayload(TypedDict):
    title: str
    payload: str


class SourceJSON(TypedDict):
    """``Source.model_dump()``: the wire form of a source link."""

    title: str
    url: str


class BotMessage(TypedDict, total=False):
    text: str
    buttons: list[ButtonPayload]
    sources: list[SourceJSON]
    entry_id: str | None
    checked: str | None  # ISO date on which the entry's facts were checked (answers from an entry only)
    locale: str
    handover: bool
    cautious: bool  # an answer given as general information: the search is less sure it settles the question
    follow_up: bool  # an answer to a short message read together with the same person's question before
    # answer | no_answer | urgent_help | close_topics | clarify | handover | feedback | flow | notice | smalltalk
    kind: str


def bot_message(
    text: str,
    locale: str,
    *,
    buttons: list[ButtonPayload] | None = None,
    sources: Sequence[Source] = (),
    entry_id: str | None = None,
    checked: str | None = None,
    handover: bool = False,
    kind: str = "notice",
    cautious: bool = False,
    follow_up: bool = False,
) -> BotMessage:
    return BotMessage(
        text=text,
        locale=locale,
        buttons=buttons or [],
        sources=[SourceJSON(title=s.title, url=s.url) for s in sources],
        entry_id=entry_id,
        checked=checked,
        handover=handover,
        cautious=cautious,
        follow_up=follow_up,
        kind=kind,
    )


def button(title: str, payload: str) -> ButtonPayload:
    return ButtonPayload(title=title, payload=payload)


def intent_payload(intent: str, **entities: str) -> str:
    """``/intent{"key":"value"}``: Rasa reads this as the intent without running NLU."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'), ensure_ascii=False)}"


def parse_payload(text: str) -> tuple[str | None, dict[str, str]]:
    """The inverse of ``intent_payload``: ``(intent, entities)``; ``(None, {})`` for typed text."""
    if not text.startswith("/"):
        return None, {}
    intent, brace, rest = text[1:].partition("{")
    entities: Any = {}
    if brace:
        try:
            entities = json.loads(brace + rest)
        except ValueError:
            entities = {}
    clean = {str(k): str(v) for k, v in entities.items()} if isinstance(entities, dict) else {}
    return intent.strip(), clean


def turn_metadata(latest_message: Mapping[str, Any] | None) -> TurnMetadata:
    """The API's metadata of a tracker's latest message (empty when there is none)."""
    metadata = (latest_message or {}).get("metadata") or {}
    return TurnMetadata(**metadata) if isinstance(metadata, Mapping) else TurnMetadata()
