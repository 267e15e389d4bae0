"""The message format the bot sends and the API reads: one JSON object per bot message.

Every bot message (from the NLG endpoint or a custom action) travels through Rasa as a ``custom`` payload of
this shape, so the API receives text, buttons, sources and flags together in one piece.
"""

from __future__ import annotations

from typing import TypedDict


class ButtonPayload(TypedDict):
    title: str
    payload: str


class SourcePayload(TypedDict):
    title: str
    url: str


class BotMessage(TypedDict, total=False):
    text: str
    buttons: list[ButtonPayload]
    sources: list[SourcePayload]
    entry_id: str | None
    locale: str
    handover: bool
    kind: str  # answer | no_answer | clarify | handover | feedback | flow | notice | smalltalk


def bot_message(
    text: str,
    locale: str,
    *,
    buttons: list[ButtonPayload] | None = None,
    sources: list[SourcePayload] | None = None,
    entry_id: str | None = None,
    handover: bool = False,
    kind: str = "notice",
) -> BotMessage:
    return BotMessage(
        text=text,
        locale=locale,
        buttons=buttons or [],
        sources=sources or [],
        entry_id=entry_id,
        handover=handover,
        kind=kind,
    )


def button(title: str, payload: str) -> ButtonPayload:
    return ButtonPayload(title=title, payload=payload)


def intent_payload(intent: str, **entities: str) -> str:
    """``/intent{"key":"value"}``: Rasa reads this as the intent without running NLU."""
    if not entities:
        return f"/{intent}"
    import json

    return f"/{intent}{json.dumps(entities, separators=(',', ':'), ensure_ascii=False)}"
