"""The per-turn context: who the bot is talking to (locale, tenant) and what it can use (knowledge, feedback).

Built once per turn: by ``context_for`` from the tracker (custom actions and the NLG endpoint), or by the API
on the knowledge-only path, which has resolved tenant and locale itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot import texts
from bot.language import session_locale
from bot.messages import ButtonPayload, button, intent_payload, turn_metadata
from bot.runtime import Services
from knowledge.feedback import FeedbackStore
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant, find_tenant

__all__ = ["Context", "context_for", "session_tenant"]


@dataclass(frozen=True)
class Context:
    locale: str
    tenant: Tenant | None = None
    knowledge: KnowledgeService | None = None
    feedback: FeedbackStore | None = None
    dialogue: bool = True  # False on the API's knowledge-only path: no guided checks to start

    def say(self, text: str, **values: str) -> str:
        return texts.say(self.locale, text, **values)

    def in_locale(self, locale: str) -> Context:
        return replace(self, locale=locale)

    @property
    def tenant_id(self) -> str | None:
        return self.tenant.id if self.tenant else None

    def topic_of(self, entry_id: str) -> str | None:
        """The catalogue topic of an entry id (``kita.costs.berlin`` -> ``kita.costs``)."""
        return self.knowledge.catalogue.topic_of(entry_id) if self.knowledge else None

    def entry_button(self, entry_id: str, **entities: str) -> ButtonPayload | None:
        """A button that shows the entry (its title in the user's language); ``entities`` travel with it."""
        if self.knowledge is None or not self.knowledge.ready:
            return None
        found = self.knowledge.searcher.version(entry_id, self.locale, self.tenant)
        return button(found[0].title, intent_payload("ask_entry", entry_id=entry_id, **entities)) if found else None

    def entry_buttons(self, entry_ids: list[str], **entities: str) -> list[ButtonPayload]:
        return [b for b in (self.entry_button(e, **entities) for e in entry_ids) if b]

    def person_button(self) -> ButtonPayload:
        return button(self.say(texts.TALK_TO_A_PERSON), intent_payload("ask_human"))

    def yes_no(self) -> list[ButtonPayload]:
        return [
            button(self.say(texts.YES), intent_payload("affirm")),
            button(self.say(texts.NO), intent_payload("deny")),
        ]

    def record_unanswered(self, question: str, subject: str | None) -> None:
        if self.feedback is not None:
            self.feedback.add_unanswered(self.locale, self.tenant_id, question, subject=subject)


def session_tenant(tenant_id: str | None, services: Services) -> Tenant | None:
    """The bot's tenant rule: the session's tenant, or the default tenant when the id is unknown. The API
    refuses unknown tenants (404), so an unknown id here is a tenant removed since the session began; the
    conversation goes on with the default tenant's contacts rather than none."""
    tenants = services.knowledge.tenants
    return find_tenant(tenants, tenant_id, services.default_tenant) or find_tenant(
        tenants, None, services.default_tenant
    )


def context_for(slots: Mapping[str, Any], latest_message: Mapping[str, Any] | None, services: Services) -> Context:
    """The context of a turn from the tracker's slots and the API's metadata on the latest message."""
    metadata = turn_metadata(latest_message)
    return Context(
        locale=session_locale(slots.get("locale"), metadata),
        tenant=session_tenant(slots.get("tenant") or metadata.get("tenant"), services),
        knowledge=services.knowledge,
        feedback=services.feedback,
    )
