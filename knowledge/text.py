"""Script-aware text normalisation shared by lexical search and language identification.

People type without diacritics ("romaneste", "kurs", "muss"), with Arabic or Persian letter variants, or with
Turkish dotless i. Folding all of these to one form lets a query match an entry written correctly.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# Arabic and Persian letters that people use interchangeably on phone keyboards.
_ARABIC_FOLD = str.maketrans(
    {"ي": "ی", "ى": "ی", "ك": "ک", "ة": "ه", "ۀ": "ه", "ؤ": "و", "ئ": "ی", "ـ": None, "ı": "i"}
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, strip diacritics and unify letter variants; keeps word boundaries."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", text).translate(_ARABIC_FOLD)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


# Arabic attaches conjunctions, prepositions and the article to the word ("والعمل", "بالمستشفى", "للأطفال"):
# a light stemmer removes them (after ``fold``) so that a prefix stem can match. The prefixes are folded too:
# folding turns the Arabic kaf of "كال" into the Persian form the words have by then.
_ARABIC_PREFIXES = tuple(fold(prefix) for prefix in ("وال", "بال", "كال", "فال", "لل", "ال", "و", "ف", "ب", "ل"))
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff]")


def _arabic_light_stem(word: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix) :]
    return word


def lexical_tokens(text: str, prefix: int = 5, locale: str | None = None) -> list[str]:
    """Words plus a truncated form of longer words: a stemmer that works in every script.

    "anmelden", "anmeldung", "anmeldebescheinigung" share "anmel"; "кита", "киты"; "kayıt", "kaydı".
    Arabic words (``locale="ar"``) lose their attached article and particles first.
    """
    tokens: list[str] = []
    for word in words(text):
        if len(word) < 2 and not word.isdigit():
            continue
        tokens.append(word)
        stem = _arabic_light_stem(word) if locale == "ar" and _ARABIC_LETTER.match(word) else word
        if stem != word:
            tokens.append(stem)
        if prefix and len(stem) > prefix:
            tokens.append(stem[:prefix] + "…")
    return tokens


# C0 and C1 controls (tabs and newlines become spaces below), zero-width characters, and the bidi embeddings,
# overrides and isolates that can make text display in another order than it is read ("Trojan Source").
# The right-to-left and left-to-right marks stay: Arabic and Persian text uses them legitimately.
_CONTROL = re.compile(
    r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


def clean_message(text: str) -> str:
    """Normalise user input: NFC, no control, zero-width or bidi-override characters, collapsed whitespace."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", text))
    return re.sub(r"\s+", " ", text).strip()


# "as of <month> <year>" in the languages whose entries are written first; translations carry the same dates.
_AS_OF = {
    "de": r"\bStand:?\s+(?:vo[mn]\s+)?(\w+)\s+(\d{4})",
    "en": r"\bas (?:of|at)\s+(\w+)\s+(\d{4})",
}


def as_of_dates(body: str, locale: str) -> list[date]:
    """The months that ``body`` says its facts refer to ("as of January 2026"), for the stale-date check."""
    from babel.dates import get_month_names

    pattern = _AS_OF.get(locale)
    if pattern is None:
        return []
    months = {name.casefold(): number for number, name in get_month_names("wide", locale=locale).items()}
    found = []
    for month, year in re.findall(pattern, body, flags=re.IGNORECASE):
        if month.casefold() in months:
            found.append(date(int(year), months[month.casefold()], 1))
    return found
