"""Supported locales and the gettext catalogs that hold every text Lotse says.

Message ids are plain English sentences, so a missing translation falls back to readable English
(never to a key). Catalogs live in ``locales/<code>/LC_MESSAGES/messages.po`` and are compiled to
``.mo`` by ``make locales`` (Babel). The texts themselves are written in ``bot/texts.py``; which locale a turn
gets is decided in ``bot/language.py``.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"

__all__ = [
    "DEFAULT",
    "SUPPORTED",
    "LocaleInfo",
    "N_",
    "all_info",
    "find_language_name",
    "gettext_for",
    "info",
    "is_supported",
    "negotiate",
    "normalize_code",
    "translations",
]

SUPPORTED: tuple[str, ...] = ("de", "en", "ar", "uk", "ru", "tr", "fa", "ro", "bg")
DEFAULT = "de"

# Extra names people use for a language that Babel does not list as the language's name.
_ALIASES: dict[str, tuple[str, ...]] = {
    "fa": ("farsi", "dari", "فارسی", "دری"),
    "ar": ("عربي", "بالعربي", "بالعربية", "arabi"),
    "en": ("inglizi", "انگلیسی", "بالانجليزي", "بالإنجليزية", "ingilizce"),
    "ro": ("romaneste", "romana", "romanian"),
    "tr": ("turkce", "turkish"),
    "uk": ("ukrainian", "українською", "украинском"),
    "de": ("almanca", "deutsch", "german", "ألماني"),
}


@dataclass(frozen=True)
class LocaleInfo:
    code: str
    name: str
    english_name: str
    rtl: bool


def is_supported(code: str | None) -> bool:
    return code in SUPPORTED


@cache
def info(code: str) -> LocaleInfo:
    loc = Locale.parse(code)
    return LocaleInfo(
        code=code,
        name=loc.get_display_name(code) or code,
        english_name=loc.get_display_name("en") or code,
        rtl=loc.character_order == "right-to-left",
    )


def all_info() -> list[LocaleInfo]:
    return [info(code) for code in SUPPORTED]


def negotiate(accept_language: str | None, available: tuple[str, ...] = SUPPORTED) -> str | None:
    """Pick a supported locale from an Accept-Language header (``"ar-SY,ar;q=0.9,en;q=0.5"``)."""
    if not accept_language:
        return None
    preferred = []
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag:
            preferred.append(tag)
    return negotiate_locale(preferred, list(available), sep="_")


def normalize_code(code: str | None) -> str | None:
    """``"ar-SY"``, ``"AR"``, ``"uk_UA"`` -> ``"ar"``/``"uk"``; anything unsupported -> None."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower())[0]
    return base if base in SUPPORTED else None


@cache
def _language_name_stems() -> tuple[tuple[str, str], ...]:
    """(stem, locale) pairs from the names of every supported language in every supported language."""
    pairs: set[tuple[str, str]] = set()
    for target in SUPPORTED:
        names = {Locale.parse(display).languages.get(target, "") for display in SUPPORTED}
        names |= set(_ALIASES.get(target, ()))
        for name in names:
            for word in re.split(r"[\s\-()]+", name.lower()):
                if len(word) >= 4:
                    # A stem survives inflection: "арабский" -> "арабск" matches "по-арабски".
                    pairs.add((word[: max(4, len(word) - 2)], target))
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def find_language_name(text: str) -> str | None:
    """The supported locale whose name appears in ``text`` ("can you write in Arabic?" -> "ar")."""
    words = [w for w in re.split(r"[^\w]+", text.lower()) if w]
    for stem, target in _language_name_stems():
        if any(word.startswith(stem) for word in words):
            return target
    return None


@cache
def translations(code: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """Compiled catalog for ``code``; English source text when the catalog or a message is missing. The
    dashboard's texts are a domain of their own (``dashboard``, German and English only)."""
    return gettext.translation(domain, localedir=str(CATALOG_DIR), languages=[code], fallback=True)


def gettext_for(code: str):
    """A ``_`` function for one locale."""
    return translations(code if code in SUPPORTED else DEFAULT).gettext


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (translated where it is shown)."""
    return message
