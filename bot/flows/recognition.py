"""Guided recognition check: profession + federal state + living in Germany -> what applies, next steps.

Which professions are regulated follows the official lists (Recognition Finder of
anerkennung-in-deutschland.de, ZAB's list of regulated professions; checked 2026-11-22). The check gives the
general rule for the profession, never a decision on a person's case: it always ends with the Finder, which
names the responsible office, and free counselling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import locales
from bot.flows import Outcome
from knowledge.models import Source
from locales import N_

Status = Literal["regulated", "title", "not_regulated", "craft"]

FINDER_URL = "https://www.anerkennung-in-deutschland.de/html/en/getting-recognition.php"
REGULATED_LIST_URL = "https://zab.kmk.org/de/reglementierte-berufe"
WHO_NEEDS_URL = "https://make-it-in-germany.com/de/arbeiten-in-deutschland/anerkennung/wer-benoetigt"
CHECKED = "2026-11-22"
SOURCES = (
    Source(title="Anerkennung in Deutschland: Recognition Finder", url=FINDER_URL),
    Source(title="ZAB: Reglementierte Berufe", url=REGULATED_LIST_URL),
    Source(title="Make it in Germany: Wer benötigt eine Anerkennung?", url=WHO_NEEDS_URL),
)


@dataclass(frozen=True)
class Profession:
    key: str
    name: str  # English name, translated through the catalogs
    status: Status
    state_law: bool = False  # rules set by each federal state (teachers, educators, engineers, ...)
    health: bool = False
    academic: bool = False  # usually a university degree


PROFESSIONS = {
    p.key: p
    for p in (
        Profession("doctor", N_("doctor"), "regulated", health=True, academic=True),
        Profession("dentist", N_("dentist"), "regulated", health=True, academic=True),
        Profession("pharmacist", N_("pharmacist"), "regulated", health=True, academic=True),
        Profession("nurse", N_("nurse"), "regulated", health=True),
        Profession("midwife", N_("midwife"), "regulated", health=True),
        Profession("physiotherapist", N_("physiotherapist"), "regulated", health=True),
        Profession("psychotherapist", N_("psychotherapist"), "regulated", health=True, academic=True),
        Profession("teacher", N_("teacher"), "regulated", state_law=True, academic=True),
        Profession("educator", N_("educator (Erzieher/in)"), "regulated", state_law=True),
        Profession("lawyer", N_("lawyer"), "regulated", academic=True),
        Profession("engineer", N_("engineer"), "title", state_law=True, academic=True),
        Profession("architect", N_("architect"), "title", state_law=True, academic=True),
        Profession("social-worker", N_("social worker"), "title", state_law=True, academic=True),
        Profession("electrician", N_("electrician"), "craft"),
        Profession("hairdresser", N_("hairdresser"), "craft"),
        Profession("mechanic", N_("car mechanic"), "craft"),
        Profession("it-specialist", N_("IT specialist"), "not_regulated", academic=True),
        Profession("accountant", N_("accountant"), "not_regulated"),
        Profession("cook", N_("cook"), "not_regulated"),
        Profession("truck-driver", N_("truck driver"), "not_regulated"),
    )
}


def assess(profession_key: str | None, state_name: str | None, lives_in_germany: bool | None, locale: str) -> Outcome:
    _ = locales.gettext_for(locale)
    profession = PROFESSIONS.get(profession_key or "")
    lines: list[str] = []
    entries = ["recognition.authority", "recognition.documents", "recognition.counselling"]

    if profession is None:
        lines.append(
            _(
                "I do not know the rules for this profession. The official Recognition Finder shows "
                "whether you need recognition and which office is responsible."
            )
        )
    else:
        name = _(profession.name)
        if profession.status == "regulated":
            lines.append(
                _(
                    "**{profession}** is a regulated profession in Germany. You need recognition "
                    "(Anerkennung) before you may work in it."
                ).format(profession=name)
            )
        elif profession.status == "title":
            lines.append(
                _(
                    "For **{profession}**, the professional title is protected in Germany. To use the title, "
                    "you need recognition or permission from the responsible office."
                ).format(profession=name)
            )
        elif profession.status == "craft":
            lines.append(
                _(
                    "**{profession}** is not regulated when you work as an employee. You may work without "
                    "recognition. To run your own business in this craft, you may need a master "
                    "craftsman qualification (Meister) or its recognition."
                ).format(profession=name)
            )
        else:
            lines.append(
                _(
                    "**{profession}** is not a regulated profession in Germany. You may work without recognition."
                ).format(profession=name)
            )
        if profession.status in ("not_regulated", "craft"):
            lines.append(
                _(
                    "Recognition can still help: employers understand your qualification better. "
                    "If you come from a country outside the EU, a work visa often needs it."
                )
            )
            if profession.academic:
                lines.append(
                    _(
                        "With a university degree you can ask the ZAB for a statement of comparability "
                        "(Zeugnisbewertung)."
                    )
                )
                entries.insert(0, "recognition.academic")
        if profession.health:
            lines.append(_("Health professions also need good German, often a language test in medical German."))
            entries.insert(0, "recognition.health-professions")
        if profession.state_law:
            lines.append(_("The rules for this profession are set by each federal state."))

    if state_name:
        lines.append(
            _(
                "The responsible office depends on the federal state where you want to work: "
                "{state}. The Recognition Finder names it."
            ).format(state=state_name)
        )
    else:
        lines.append(
            _(
                "The responsible office depends on the federal state where you want to work. "
                "The Recognition Finder names it."
            )
        )
    if lives_in_germany is False:
        lines.append(
            _(
                "You can apply from abroad. Show that you want to work in Germany, for example with a "
                "job offer or your visa application."
            )
        )
        entries.insert(0, "work.skilled-immigration")

    lines.append("")
    lines.append(_("Next steps:"))
    lines.append("1. " + _("Open the Recognition Finder and enter your profession: {url}").format(url=FINDER_URL))
    lines.append("2. " + _("Collect your certificates and proof of work experience."))
    lines.append("3. " + _("Get free advice before you apply, for example from an IQ counselling centre."))
    lines.append("")
    lines.append("_" + _("General information as of {date}, not a decision on your case.").format(date=CHECKED) + "_")

    return Outcome("\n".join(lines), _unique(entries)[:3], list(SOURCES))


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
