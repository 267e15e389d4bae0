"""Session facts the bot keeps across turns: which language to answer in, for which tenant.

The API sends with every message the locale it resolved and where it came from (``locale_source``):
``explicit`` (language picker or API parameter), ``detected`` (language identification on this message),
``channel`` (e.g. Telegram's language_code) or ``default`` (the tenant's default). An explicit choice or a
confident detection changes the session's language; a channel hint or a default only fills an empty one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import locales

STRONG_SOURCES = ("explicit", "detected")


def choose_locale(current: str | None, metadata: Mapping[str, Any]) -> str:
    requested = metadata.get("locale")
    source = metadata.get("locale_source")
    if locales.is_supported(requested) and (source in STRONG_SOURCES or not locales.is_supported(current)):
        return requested
    if locales.is_supported(current):
        return current
    return locales.DEFAULT


def message_metadata(tracker_latest_message: Mapping[str, Any] | None) -> Mapping[str, Any]:
    metadata = (tracker_latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, Mapping) else {}
