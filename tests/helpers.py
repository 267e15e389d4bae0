"""Small builders for test data (entries, catalogue, knowledge directories)."""

from __future__ import annotations

from pathlib import Path

import yaml

CATALOGUE = {
    "version": 1,
    "locales": ["de", "en"],
    "categories": {
        "arrival": {"names": {"de": "Ankommen", "en": "Arrival"}},
        "kita": {"names": {"de": "Kita", "en": "Childcare"}},
    },
    "topics": {
        "arrival.registration": {"category": "arrival", "answers": "Registering your address."},
        "kita.costs": {"category": "kita", "answers": "Kita fees."},
    },
}


def entry_text(entry_id: str = "arrival.registration", locale: str = "de", **overrides) -> str:
    fields = {
        "id": entry_id,
        "locale": locale,
        "title": "Wohnung anmelden",
        "questions": ["wie melde ich meine wohnung an", "wo mache ich die anmeldung", "anmeldung frist"],
        "summary": "Sie melden Ihre Wohnung innerhalb von zwei Wochen beim Bürgeramt an.",
        "sources": [{"title": "BMG § 17", "url": "https://www.gesetze-im-internet.de/bmg/__17.html"}],
        "checked": "2026-11-01",
        "region": "DE",
        "translation": "original",
        "related": [],
    }
    body = overrides.pop(
        "body",
        "Sie müssen jede neue Wohnung anmelden. Gehen Sie zum Bürgeramt. "
        "Nehmen Sie Ihren Pass mit. Die Anmeldung ist kostenlos. " * 6,
    )
    fields.update(overrides)
    front = yaml.safe_dump({k: v for k, v in fields.items() if v is not None}, allow_unicode=True, sort_keys=False)
    return f"---\n{front}---\n{body}\n"


def write_knowledge(
    root: Path,
    entries: dict[tuple[str, str], str],
    catalogue: dict | None = None,
    tenants: dict[str, str] | None = None,
) -> Path:
    """A knowledge directory: catalogue.yaml, entries/<id>/<locale>.md, tenants/<id>.yaml."""
    knowledge = root / "knowledge"
    (knowledge / "entries").mkdir(parents=True, exist_ok=True)
    (knowledge / "tenants").mkdir(exist_ok=True)
    (knowledge / "catalogue.yaml").write_text(yaml.safe_dump(catalogue or CATALOGUE, allow_unicode=True))
    for (entry_id, locale), text in entries.items():
        folder = knowledge / "entries" / entry_id
        folder.mkdir(exist_ok=True)
        (folder / f"{locale}.md").write_text(text, encoding="utf-8")
    for tenant_id, text in (tenants or {}).items():
        (knowledge / "tenants" / f"{tenant_id}.yaml").write_text(text, encoding="utf-8")
    return knowledge
