"""Guided Kita check: child's age + whether a place is promised -> entitlement and next steps.

Legal basis: section 24 SGB VIII (right to a place from the first birthday until school; all-day care for
primary school children from 1 August 2026, starting with grade 1), section 90 SGB VIII (fees). Checked
2026-11-22.
"""

from __future__ import annotations

import re

import locales
from bot.flows import Outcome
from knowledge.models import Source
from knowledge.text import fold

SGB8_24 = "https://www.gesetze-im-internet.de/sgb_8/__24.html"
SGB8_90 = "https://www.gesetze-im-internet.de/sgb_8/__90.html"
CHECKED = "2026-11-22"
SOURCES = (
    Source(title="SGB VIII § 24: Anspruch auf Förderung in Tageseinrichtungen und in Kindertagespflege", url=SGB8_24),
    Source(title="SGB VIII § 90: Kostenbeiträge", url=SGB8_90),
)
MAX_AGE_MONTHS = 14 * 12

_MONTH_WORDS = tuple(
    fold(w)
    for w in (
        "monat",
        "month",
        "mth",
        "شهر",
        "اشهر",
        "شهور",
        "місяц",
        "месяц",
        "мес",
        "ay",
        "aylik",
        "ماه",
        "luni",
        "luna",
        "lun",
        "месец",
    )
)
_YEAR_WORDS = tuple(
    fold(w)
    for w in (
        "jahr",
        "year",
        "yr",
        "سنه",
        "سنوات",
        "سنين",
        "عام",
        "اعوام",
        "рік",
        "рок",
        "років",
        "год",
        "лет",
        "yas",
        "yil",
        "سال",
        "an",
        "ani",
        "година",
        "години",
    )
)
_DUAL_YEAR = tuple(fold(w) for w in ("سنتين", "عامين"))  # Arabic dual: "two years"
_NUMBER_WORDS_RAW = {
    1: (
        "eins",
        "ein",
        "eine",
        "einem",
        "one",
        "واحد",
        "один",
        "одна",
        "одного",
        "bir",
        "یک",
        "unu",
        "una",
        "едно",
        "една",
        "един",
    ),
    2: ("zwei", "two", "اثنين", "اثنان", "два", "дві", "две", "iki", "دو", "doi", "doua", "две", "два"),
    3: ("drei", "three", "ثلاث", "ثلاثه", "три", "uc", "سه", "trei"),
    4: ("vier", "four", "اربع", "اربعه", "чотири", "четыре", "четири", "dort", "چهار", "patru"),
    5: ("funf", "fuenf", "five", "خمس", "خمسه", "п'ять", "пять", "пет", "bes", "پنج", "cinci"),
    6: ("sechs", "six", "ست", "سته", "шість", "шесть", "шест", "alti", "شش", "sase"),
}
_NUMBER_WORDS = {value: tuple(fold(w) for w in names) for value, names in _NUMBER_WORDS_RAW.items()}


def parse_age_months(text: str) -> float | None:
    """``"2 Jahre"`` -> 24, ``"18 months"`` -> 18, ``"عمره سنتين"`` -> 24, ``"3"`` -> 36; None if no age."""
    folded = fold(text)
    digits = re.search(r"\d+(?:[.,]\d+)?", folded)
    number = float(digits.group(0).replace(",", ".")) if digits else None
    unit: str | None = None
    for word in re.findall(r"[^\W\d_]+", folded):
        if word in _DUAL_YEAR:
            number, unit = 2.0, "year"
        elif _unit(word):
            unit = unit or _unit(word)
        elif number is None:
            number = next((float(v) for v, names in _NUMBER_WORDS.items() if word in names), None)
    if number is None:
        return None
    months = number if unit == "month" else number * 12 if unit == "year" else (number * 12 if number <= 7 else number)
    return months if 0 <= months <= MAX_AGE_MONTHS else None


def _unit(word: str) -> str | None:
    if any(word.startswith(w) for w in _MONTH_WORDS if len(w) > 2) or word in ("ay", "lun"):
        return "month"
    if any(word.startswith(w) for w in _YEAR_WORDS if len(w) > 2) or word in ("an", "ani", "yas", "yil"):
        return "year"
    return None


def assess(age_months: float, place_promised: bool | None, local_hint: str | None, locale: str) -> Outcome:
    _ = locales.gettext_for(locale)
    lines: list[str] = []
    if age_months < 12:
        lines.append(
            _(
                "Your child is under one year old. There is no legal right to a place yet. A place should "
                "still be offered if you work, study, are in training or look for work, or if your child "
                "needs it."
            )
        )
        lines.append(_("From the first birthday, your child has a legal right to a place."))
    elif age_months < 36:
        lines.append(_("Your child has a legal right to a place in a Kita or with a childminder (Kindertagespflege)."))
    elif age_months < 72:
        lines.append(_("Your child has a legal right to a place in a Kita until school starts."))
    else:
        lines.append(
            _(
                "At this age children go to school. School is compulsory in Germany. Since 1 August 2026, "
                "children in their first school year also have a right to all-day care (Ganztag)."
            )
        )
    if age_months < 72:
        lines.append(_("Going to Kita is voluntary. It helps your child to learn German and make friends."))
    lines.append("")
    entries: list[str]
    if age_months >= 72:
        entries = ["school.enrolment", "kita.language-support"]
    elif place_promised:
        lines.append(_("Next steps:"))
        lines.append("1. " + _("Sign the care contract with the Kita or childminder."))
        lines.append(
            "2. " + _("Plan a few weeks for settling in (Eingewöhnung): a parent stays with the child at first.")
        )
        lines.append("3. " + _("Bring proof of measles vaccination for your child."))
        entries = ["kita.start", "kita.costs"]
    else:
        lines.append(_("Next steps:"))
        lines.append(
            "1. " + _("Apply early, at several Kitas or on your town's Kita portal. Ask to be put on the waiting list.")
        )
        lines.append("2. " + _("The youth welfare office (Jugendamt) helps you find a place or a childminder."))
        lines.append("3. " + _("If you get no place, tell the youth welfare office in writing that you need one."))
        entries = ["kita.find-apply", "kita.childminder", "kita.costs"]
    if age_months < 72:
        lines.append("")
        lines.append(
            _(
                "Costs: fees differ by state and town. Some years are free in some states. With a low "
                "income you can ask for lower fees."
            )
        )
    if local_hint:
        lines.append("")
        lines.append(_("Local information: {hint}").format(hint=local_hint))
    lines.append("")
    lines.append("_" + _("General information as of {date}, not a decision on your case.").format(date=CHECKED) + "_")
    return Outcome("\n".join(lines), entries, list(SOURCES))
