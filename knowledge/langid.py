"""Language identification for messages that arrive without a locale (messengers, API without ``locale``).

Uses Lingua (bundled n-gram models, no download), restricted to the supported locales: a narrower choice is
both faster and more accurate on the very short messages people send. Accuracy on short messages is
measured by ``python -m knowledge eval --langid`` (see docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

import locales

MIN_CONFIDENCE = 0.5  # below this, keep the session's or channel's locale


@dataclass(frozen=True)
class Detection:
    locale: str
    confidence: float


@lru_cache(maxsize=1)
def _detector():
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in locales.SUPPORTED]
    return LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()


def warm_up() -> None:
    _detector()


def detect(text: str) -> Detection | None:
    """Best supported locale for ``text`` with its confidence, or None for empty text."""
    if not text or not any(ch.isalpha() for ch in text):
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    top = values[0]
    return Detection(top.language.iso_code_639_1.name.lower(), float(top.value))


def detect_locale(text: str, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """The locale when detection is confident enough, else None."""
    found = detect(text)
    return found.locale if found and found.confidence >= min_confidence else None
