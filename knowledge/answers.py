"""Turn entries and tenant contacts into the text a person reads, in their language.

Pure functions: the same texts serve the dialogue (bot actions) and the API's knowledge-only fallback.
"""

from __future__ import annotations

import locales
from knowledge.models import Entry
from knowledge.tenants import Tenant, pick


def entry_text(entry: Entry, locale: str, fallback: bool) -> str:
    """Title and body; when the entry is not in the user's language, say so first."""
    _ = locales.gettext_for(locale)
    text = f"**{entry.title}**\n\n{entry.body}"
    if fallback:
        notice = _("This information is not yet available in your language. Here it is in simple German.")
        if entry.locale == "en":
            notice = _("This information is not yet available in your language. Here it is in English.")
        text = f"{notice}\n\n{text}"
    if entry.translation == "machine":
        text += "\n\n_" + _("This text was translated automatically. The German version is the reference.") + "_"
    return text


def entry_sources(entry: Entry) -> list[dict[str, str]]:
    return [{"title": s.title, "url": s.url} for s in entry.sources]


def contacts_text(tenant: Tenant | None, locale: str) -> str:
    """The tenant's counselling contacts in the user's language, or where to find counselling nationwide."""
    _ = locales.gettext_for(locale)
    if tenant is None or not tenant.contacts:
        return _(
            "Free migration counselling for adults (MBE) and the Youth Migration Services (JMD) help in many "
            "languages. Find a centre near you: https://bamf-navi.bamf.de"
        )
    lines = [_("You can talk to a person here:"), ""]
    for contact in tenant.contacts:
        lines.append(f"**{pick(contact.name, locale)}**")
        if contact.phone:
            lines.append(f"☎ {contact.phone}")
        if contact.email:
            lines.append(f"✉ {contact.email}")
        if contact.hours:
            lines.append(_("Opening hours: {hours}").format(hours=pick(contact.hours, locale)))
        if contact.address:
            lines.append(f"⌂ {contact.address}")
        if contact.languages:
            names = ", ".join(locales.info(c).name if locales.is_supported(c) else c for c in contact.languages)
            lines.append(_("Languages: {languages}").format(languages=names))
        if contact.url:
            lines.append(contact.url)
        lines.append("")
    if tenant.example:
        lines.append("_" + _("These contacts are example data for a demonstration.") + "_")
    return "\n".join(lines).strip()


def no_answer_text(locale: str) -> str:
    _ = locales.gettext_for(locale)
    return _(
        "I am sorry, I have no checked information on this question. I do not want to guess. "
        "A counselling centre can help you personally and for free."
    )


def no_answer_with_contacts_text(tenant: Tenant | None, locale: str) -> str:
    """The honest "no checked answer" followed by where a person can help."""
    return no_answer_text(locale) + "\n\n" + contacts_text(tenant, locale)


def limited_service_text(locale: str) -> str:
    _ = locales.gettext_for(locale)
    return _("The conversation service is limited right now. I can still search the information for you.")


def try_again_text(locale: str) -> str:
    _ = locales.gettext_for(locale)
    return _("Sorry, I cannot answer right now. Please try again in a few minutes.")
