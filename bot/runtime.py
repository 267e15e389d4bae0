"""Shared services of the action server process (set once at startup by bot/server.py).

Rasa SDK creates action objects itself, without arguments; this module is how they reach the knowledge
engine and the feedback store that the server opened.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.feedback import FeedbackStore
from knowledge.service import KnowledgeService
from knowledge.tenants import Tenant


@dataclass
class Services:
    knowledge: KnowledgeService
    feedback: FeedbackStore
    default_tenant: str

    def tenant(self, tenant_id: str | None) -> Tenant | None:
        tenants = self.knowledge.tenants
        return tenants.get(tenant_id or "") or tenants.get(self.default_tenant)


_services: Services | None = None


def install(services: Services) -> None:
    global _services
    _services = services


def services() -> Services:
    if _services is None:
        raise RuntimeError("action server services are not initialised")
    return _services
