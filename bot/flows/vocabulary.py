"""Match free text to professions and federal states, in every locale (bot/flows/vocabulary.yaml)."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path

import yaml

from knowledge.text import fold

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yaml")
_WORDS = re.compile(r"[\w-]+")


@lru_cache(maxsize=1)
def _vocabulary() -> dict:
    return yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8"))


@cache
def _terms(kind: str) -> tuple[tuple[str, str], ...]:
    """(folded term, key) pairs, longest first: "zahnarzt" must win over "arzt"."""
    data = _vocabulary()[kind]
    pairs = {
        (" ".join(_WORDS.findall(fold(str(term)))), key)
        for key, by_locale in data.items()
        for terms in by_locale.values()
        for term in terms
    }
    return tuple(sorted(pairs, key=lambda p: (-len(p[0]), p[0])))


def _matches(term: str, words: list[str], haystack: str) -> bool:
    if f" {term} " in haystack:
        return True
    if " " in term or len(term) < 6:
        return False
    # Inflected forms: "бавария" -> "в баварии", "ukraine" -> "ukrainian" is not meant, hence the length cap.
    stem = term[:-2]
    return any(w.startswith(stem) and len(w) <= len(term) + 3 for w in words)


def _find(kind: str, text: str) -> str | None:
    words = _WORDS.findall(fold(text))
    haystack = " " + " ".join(words) + " "
    for term, key in _terms(kind):
        if f" {term} " in haystack:
            return key
    for term, key in _terms(kind):
        if _matches(term, words, haystack):
            return key
    return None


def find_profession(text: str) -> str | None:
    """``"ich bin Krankenschwester"`` -> ``"nurse"``; None when no known profession is named."""
    return _find("professions", text)


def find_state(text: str) -> str | None:
    """``"in NRW"``, ``"Köln"``, ``"بافاريا"`` -> ISO 3166-2 code such as ``"DE-NW"``."""
    return _find("states", text)


def state_name(code: str, locale: str) -> str:
    """A federal state's name in ``locale`` (German when the vocabulary lacks that locale)."""
    names = _vocabulary()["states"].get(code, {})
    choices = names.get(locale) or names.get("de") or []
    return str(choices[0]).title() if choices else code
