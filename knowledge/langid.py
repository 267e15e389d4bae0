"""Language identification for messages that arrive without a locale (messengers, API without ``locale``).

Uses Lingua (bundled n-gram models, no download), restricted to the supported locales: a narrower choice is
both faster and more accurate on the very short messages people send. Two things about how newcomers write
decide the rest:

- **The script first.** A message with at least a third of its words in Arabic or Cyrillic letters is in one
  of the locales written in that script (Babel's likely script per language: ar and fa, uk, ru and bg), whatever
  Latin-letter words it holds; only its words in that script are read. "Kita-Gutschein رو از کجا بگیرم؟" is
  Persian, not German; "Ich heiße Ольга und brauche einen Termin" stays German.
- **German office words do not make a message German.** Jobcenter, Aufenthaltstitel or Anmeldung are long and
  very German, so Lingua puts German first for an English, Turkish or Romanian message that uses a few of them.
  When German leads, the message's parts are read (``detect_multiple_languages_of``); another language wins
  when it covers at least as many words as German and at least ``MIN_OTHER_WORDS`` ("Hallo zusammen" stays
  German), with its share of the words as the confidence. When that finds no other language (Lingua often reads
  a short message as one German part: "What do I need to get a Niederlassungserlaubnis?"), the message is read
  once more without its German nouns: the words written capitalised in mid-sentence in the catalogue's German
  entries beside this module (at least ``MIN_NOUN_LETTERS`` letters, matched folded, so "steuererklarung"
  counts). When what is left has at least ``MIN_OTHER_WORDS`` words and is not German, its language wins.
- **Arabic, Persian, Ukrainian, Russian and Bulgarian typed in Latin letters** ("ana 3andi ta2min?", "mitoonam
  kar konam?", "kakvo e tazi karta") have no Lingua model: Lingua calls them Turkish, English or Romanian, and is
  sure of it. A message whose words are at least two thirds in Latin letters is first read by a small character
  n-gram model (fitted once per process, in a few seconds) learned from the topic questions in
  ``knowledge/questions/`` (the ones beside this module, whatever ``LOTSE_KNOWLEDGE_DIR`` says: the model learns
  how each language is typed, not what the topics are) that are written in Latin letters: there people of each
  locale ask in the letters they type, and for ar, fa, uk, ru and bg those are the romanised questions. It is the
  topic classifier's character model (``knowledge.classifier``), with locales for classes. When it gives a locale
  of another script at least ``MIN_CONFIDENCE``, that locale wins; otherwise Lingua decides, as it reads German,
  English, Turkish and Romanian better.

Accuracy on short messages is measured by ``python -m knowledge eval --langid`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from babel.core import get_global
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

import locales
from knowledge.boundaries import load_topic_questions
from knowledge.classifier import CharacterModel
from knowledge.text import fold, words

log = logging.getLogger(__name__)

MIN_CONFIDENCE = 0.5  # below this, keep the session's or channel's locale
MIN_OTHER_WORDS = 4  # "Hallo zusammen" is German; a language beside German office words needs a sentence of its own
LATIN = "Latn"
# Unicode character names start with the script's name; the scripts of the supported locales.
_SCRIPT_NAMES = {"LATIN": LATIN, "ARABIC": "Arab", "CYRILLIC": "Cyrl"}
# The romanised-message model learns from the topic questions (knowledge content, not evaluation sets).
TOPIC_QUESTIONS = Path(__file__).resolve().parent / "questions"
# German office words come from the German entries (knowledge content): "Wohnungsgeberbestätigung", "Jobcenter".
GERMAN_ENTRIES = Path(__file__).resolve().parent / "entries"
MIN_NOUN_LETTERS = 6  # shorter capitalised words ("Kita", "Amt") are too few letters to mislead Lingua
# A capitalised word after a lower-case letter or a comma and a space: a noun, not the first word of a sentence.
_MID_SENTENCE_NOUN = re.compile(r"(?<=[a-zäöüß,;)] )([A-ZÄÖÜ]\w+)")


@dataclass(frozen=True)
class Detection:
    """The locale and how sure: Lingua's probability, or the share of the message's words in that language when
    the message was read by script or part by part (see the module docstring). Compare it with MIN_CONFIDENCE."""

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


def _script_of_word(word: str) -> str | None:
    """The script of a word whose letters are all in one known script; None for mixed or unknown letters."""
    scripts = {_script_of_letter(ch) for ch in word if ch.isalpha()}
    return scripts.pop() if len(scripts) == 1 else None


@lru_cache(maxsize=1)
def _detectors() -> tuple[LanguageDetector, dict[str, tuple[str, ...]], dict[str, LanguageDetector]]:
    """One detector over every supported locale, the locales per non-Latin script, and a detector per script."""
    by_script: dict[str, list[str]] = {}
    for code in locales.SUPPORTED:
        by_script.setdefault(script_of_locale(code), []).append(code)
    unknown = set(by_script) - set(_SCRIPT_NAMES.values())
    if unknown:  # a new locale in another script: its letters must be recognised, or it would never be detected
        raise ValueError(f"scripts {sorted(unknown)} of supported locales are missing from _SCRIPT_NAMES")
    scripts = {script: tuple(codes) for script, codes in by_script.items() if script != LATIN}
    per_script = {script: _build(list(codes)) for script, codes in scripts.items() if len(codes) > 1}
    return _build(list(locales.SUPPORTED)), scripts, per_script


def _scripts_of_words(text: str) -> list[tuple[str, str | None]]:
    """Each word with a letter, and its script; numbers, emoji and punctuation are not words of any language."""
    return [(word, _script_of_word(word)) for word in text.split() if any(ch.isalpha() for ch in word)]


def _mostly_latin(scripts: list[str | None]) -> bool:
    return bool(scripts) and 3 * scripts.count(LATIN) >= 2 * len(scripts)


@lru_cache(maxsize=1)
def _romanised_model() -> tuple[tuple[str, ...], CharacterModel] | None:
    """The locale of a Latin-letter message from its character n-grams (see module docstring): the topic
    classifier's kind of model, learned from the topic questions written in Latin letters. None when those hold
    fewer than two locales or too few n-grams to learn from."""
    training, problems = load_topic_questions(TOPIC_QUESTIONS, None)
    for problem in problems:  # the validator reports them too; here they may silently drop a locale
        log.warning("romanised-language model: %s", problem)
    latin = [q for q in training.questions if _mostly_latin([script for _, script in _scripts_of_words(q.text)])]
    labels = [q.locale for q in latin]
    classes = tuple(str(code) for code in np.unique(labels))  # the model's columns: scikit-learn's classes_ order
    model = CharacterModel.fit([q.text for q in latin], labels, None) if len(classes) > 1 else None
    return (classes, model) if model else None


def _romanised(text: str) -> Detection | None:
    """The locale of a message in another script typed in Latin letters, when the model is sure enough."""
    fitted = _romanised_model()
    if fitted is None:
        return None
    classes, model = fitted
    logits = model.logits(text)
    probabilities = np.exp(logits - logits.max())
    best = int(probabilities.argmax())
    code, confidence = classes[best], float(probabilities[best] / probabilities.sum())
    if script_of_locale(code) == LATIN or confidence < MIN_CONFIDENCE:
        return None
    return Detection(code, confidence)


def warm_up() -> None:
    _detectors()
    if _romanised_model() is None:
        log.warning(
            "no romanised-language model: Latin-typed ar/fa/uk/ru/bg messages go to Lingua (%s)", TOPIC_QUESTIONS
        )
    _romanised("warm up")  # builds the vectoriser, so that the first message does not
    _german_nouns()


def _best(detector: LanguageDetector, text: str) -> Detection | None:
    """Lingua's first language, or None when it cannot read the text at all (every value 0)."""
    values = detector.compute_language_confidence_values(text)
    return Detection(_code(values[0].language), float(values[0].value)) if values and values[0].value > 0 else None


def _beyond_german_words(detector: LanguageDetector, text: str) -> Detection | None:
    """The language of a Latin-script message that Lingua calls German, read part by part (see module docstring)."""
    words: Counter[Language] = Counter()
    for part in detector.detect_multiple_languages_of(text):
        words[part.language] += part.word_count
    german = words.pop(Language.GERMAN, 0)
    if not words:
        return None
    language, count = words.most_common(1)[0]
    if count < max(german, MIN_OTHER_WORDS):
        return None
    return Detection(_code(language), count / (german + sum(words.values())))


@lru_cache(maxsize=1)
def _german_nouns() -> frozenset[str]:
    """Folded German nouns of the catalogue's German entries (see module docstring)."""
    nouns: set[str] = set()
    for path in GERMAN_ENTRIES.glob("*/de.md"):
        for noun in _MID_SENTENCE_NOUN.findall(path.read_text(encoding="utf-8")):
            if len(noun) >= MIN_NOUN_LETTERS and not noun.isupper():
                nouns.add(fold(noun))
    return frozenset(nouns)


def _beyond_german_nouns(detector: LanguageDetector, text: str) -> Detection | None:
    """The language of a message that Lingua calls German, read without its German nouns (see module docstring)."""
    nouns = _german_nouns()
    typed = text.split()
    rest = [word for word in typed if not any(part in nouns for part in words(word))]
    if len(rest) == len(typed) or len(rest) < MIN_OTHER_WORDS:
        return None
    found = _best(detector, " ".join(rest))
    return found if found and found.locale != "de" else None


def detect(text: str) -> Detection | None:
    """Best supported locale for ``text`` with its confidence, or None when no supported language can be read."""
    if not any(ch.isalpha() for ch in text):
        return None
    every_locale, scripts, per_script = _detectors()
    words = _scripts_of_words(text)
    by_script = Counter(script for _, script in words if script in scripts)
    if by_script:
        script, count = by_script.most_common(1)[0]
        # A message in Arabic or Cyrillic letters, beside German office words: a name or a look-alike letter in a
        # Latin message ("Ich heiße Ольга") is not enough.
        if 3 * count >= len(words):
            if len(scripts[script]) == 1:
                return Detection(scripts[script][0], 1.0)
            own_words = " ".join(word for word, its_script in words if its_script == script)
            found = _best(per_script[script], own_words)
            if found:
                return found
    if _mostly_latin([script for _, script in words]):
        found = _romanised(text)
        if found:
            return found
    found = _best(every_locale, text)
    if found and found.locale == "de":
        return _beyond_german_words(every_locale, text) or _beyond_german_nouns(every_locale, text) or found
    return found


def detect_locale(text: str, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """The locale when detection is confident enough, else None."""
    found = detect(text)
    return found.locale if found and found.confidence >= min_confidence else None
