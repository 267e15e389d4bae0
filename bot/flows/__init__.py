"""Pure logic of the guided checks (no Rasa, no I/O): understanding the answers and deciding the outcome."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import Source

__all__ = ["Outcome", "kita", "recognition", "vocabulary"]


@dataclass(frozen=True)
class Outcome:
    """What a guided check tells the user: the text, related entries (offered as buttons) and its sources."""

    text: str
    entries: list[str]
    sources: list[Source]
