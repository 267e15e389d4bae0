"""Language identification for messages that arrive without a locale (messengers, API without ``locale``).

Uses Lingua (bundled n-gram models, no download), restricted to the supported locales: a narrower choice is
both faster and more accurate on the very short messages people send. Two things about how newcomers write
decide the rest:

- **The script first.** A message with Arabic or Cyrillic letters is in one of the locales written in that
  script (Babel's likely script per language: ar and fa, uk, ru and bg), whatever Latin-letter words it holds;
  only its words in that script are read. "Kita-Gutschein رو از کجا بگیرم؟" is Persian, not German.
- **German office words do not make a message German.** Jobcenter, Aufenthaltstitel or Anmeldung are long and
  very German, so Lingua puts German first for an English, Turkish or Romanian message that uses a few of them.
  When German leads, the message's parts are read (``detect_multiple_languages_of``); another language wins
  when it covers at least as many words as German, with its share of the words as the confidence.

Accuracy on short messages is measured by ``python -m knowledge eval --langid`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from babel.core import get_global
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

import locales

MIN_CONFIDENCE = 0.5  # below this, keep the session's or channel's locale
LATIN = "Latn"
# Unicode character names start with the script's name; the scripts of the supported locales.
_SCRIPT_NAMES = {"LATIN": LATIN, "ARABIC": "Arab", "CYRILLIC": "Cyrl"}
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Detection:
    locale: str
    confidence: float


def _language(code: str) -> Language:
    return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))


def _code(language: Language) -> str:
    return language.iso_code_639_1.name.lower()


def _build(codes: list[str]) -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*map(_language, codes)).with_preloaded_language_models().build()


def script_of_locale(code: str) -> str:
    """The script a language is usually written in (CLDR likely subtags via Babel), e.g. fa → Arab."""
    parts = get_global("likely_subtags").get(code, "").split("_")
    return parts[1] if len(parts) > 1 else LATIN


def _script_of_letter(letter: str) -> str | None:
    return _SCRIPT_NAMES.get(unicodedata.name(letter, "").split(" ", 1)[0])


@lru_cache(maxsize=1)
def _detectors() -> tuple[LanguageDetector, dict[str, tuple[str, ...]], dict[str, LanguageDetector]]:
    """One detector over every supported locale, the locales per non-Latin script, and a detector per script."""
    by_script: dict[str, list[str]] = {}
    for code in locales.SUPPORTED:
        by_script.setdefault(script_of_locale(code), []).append(code)
    scripts = {script: tuple(codes) for script, codes in by_script.items() if script != LATIN}
    per_script = {script: _build(list(codes)) for script, codes in scripts.items() if len(codes) > 1}
    return _build(list(locales.SUPPORTED)), scripts, per_script


def warm_up() -> None:
    _detectors()


def _best(detector: LanguageDetector, text: str) -> Detection | None:
    values = detector.compute_language_confidence_values(text)
    return Detection(_code(values[0].language), float(values[0].value)) if values else None


def _beyond_german_words(detector: LanguageDetector, text: str) -> Detection | None:
    """The language of a Latin-script message that Lingua calls German, read part by part (see module docstring)."""
    words: Counter[Language] = Counter()
    for part in detector.detect_multiple_languages_of(text):
        words[part.language] += part.word_count
    german = words.pop(Language.GERMAN, 0)
    if not words:
        return None
    language, count = words.most_common(1)[0]
    return Detection(_code(language), count / (german + sum(words.values()))) if count >= german else None


def detect(text: str) -> Detection | None:
    """Best supported locale for ``text`` with its confidence, or None without letters of a supported script."""
    letters = Counter(script for ch in text if ch.isalpha() and (script := _script_of_letter(ch)))
    if not letters:
        return None
    every_locale, scripts, per_script = _detectors()
    written_in = [script for script, _ in letters.most_common() if script in scripts]
    if written_in:
        script = written_in[0]
        if len(scripts[script]) == 1:
            return Detection(scripts[script][0], 1.0)
        own_words = " ".join(w for w in _WORD.findall(text) if any(_script_of_letter(ch) == script for ch in w))
        return _best(per_script[script], own_words)
    found = _best(every_locale, text)
    if found and found.locale == "de":
        return _beyond_german_words(every_locale, text) or found
    return found


def detect_locale(text: str, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """The locale when detection is confident enough, else None."""
    found = detect(text)
    return found.locale if found and found.confidence >= min_confidence else None
