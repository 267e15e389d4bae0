"""Typed intents the knowledge-only path still understands when the dialogue service is down: greetings and
asking for a person, in every locale.

The examples are the NLU training data (bot/data/nlu/<locale>.yml) and the "Talk to a person" button text in
every locale (bot/texts.py), so there is one list to maintain; a message matches when it equals an example
after folding (case, diacritics, letter variants, punctuation). Anything else is treated as a question for the
knowledge search, as before: reworded requests for a person then get the no-answer with contacts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

import locales
from bot import texts
from knowledge.text import words

__all__ = ["UNDERSTOOD", "typed_intent"]

NLU_DIR = Path(__file__).resolve().parent / "data" / "nlu"
UNDERSTOOD = ("greet", "ask_human")


def _key(text: str) -> str:
    return " ".join(words(text))


@lru_cache(maxsize=1)
def _examples() -> dict[str, str]:
    """Folded example -> intent, over every locale's training file."""
    found: dict[str, str] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if item.get("intent") in UNDERSTOOD:
                for line in item.get("examples", "").splitlines():
                    example = line.strip().removeprefix("- ").strip()
                    if example:
                        found[_key(example)] = item["intent"]
    for locale in locales.SUPPORTED:
        found[_key(texts.say(locale, texts.TALK_TO_A_PERSON))] = "ask_human"
    return found


def typed_intent(text: str) -> str | None:
    """``greet`` or ``ask_human`` when ``text`` is one of their examples; None for everything else."""
    return _examples().get(_key(text))
