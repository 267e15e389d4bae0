"""Every decision about which language to answer in, in one place.

Per message (the API, for any channel and for the search route): ``resolve_locale`` picks a locale and says
where it came from (``LocaleSource``): ``explicit`` (language picker or API parameter), ``detected`` (language
identification on this message), ``channel`` (e.g. Telegram's language_code, the browser's languages) or
``default`` (the tenant's default). Per session (the bot): ``session_locale`` lets an explicit choice or a
confident detection change the session's language, while a channel hint or a default only fills an empty one.
``requested_locale`` reads "can you write in Arabic?".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import locales
from bot.messages import LocaleSource
from knowledge import langid
from knowledge.tenants import Tenant

__all__ = [
    "MIN_DETECTION_CHARS",
    "enabled_locales",
    "requested_locale",
    "resolve_locale",
    "session_locale",
]

MIN_DETECTION_CHARS = 12  # shorter messages ("ok", "danke") are too short to switch language on
STRONG_SOURCES = ("explicit", "detected")


def enabled_locales(tenant: Tenant | None) -> list[str]:
    return list(tenant.locales) if tenant else list(locales.SUPPORTED)


def resolve_locale(
    text: str, tenant: Tenant | None, requested: str | None = None, hint: str | None = None
) -> tuple[str, LocaleSource]:
    """The locale for one message and where it came from; the bot then decides with the session's history."""
    enabled = enabled_locales(tenant)
    if requested in enabled:
        return requested, "explicit"
    if not text.startswith("/") and len(text) >= MIN_DETECTION_CHARS:
        detected = langid.detect_locale(text)
        if detected in enabled:
            return detected, "detected"
    hint_code = locales.normalize_code(hint)
    if hint_code in enabled:
        return hint_code, "channel"
    return (tenant.default_locale if tenant else locales.DEFAULT), "default"


def session_locale(current: str | None, metadata: Mapping[str, Any]) -> str:
    """The session's language after this message: ``current`` (the slot) updated by the API's metadata."""
    requested = metadata.get("locale")
    source = metadata.get("locale_source")
    if locales.is_supported(requested) and (source in STRONG_SOURCES or not locales.is_supported(current)):
        return requested
    if locales.is_supported(current):
        return current
    return locales.DEFAULT


def requested_locale(text: str, entity: str | None, tenant: Tenant | None) -> str | None:
    """The enabled locale a "please write in ..." message asks for (a button's entity, or a language's name)."""
    wanted = locales.normalize_code(entity or locales.find_language_name(text))
    return wanted if wanted in enabled_locales(tenant) else None
