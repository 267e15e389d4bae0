"""Long-lived resources of one API process, created in the app's lifespan and closed there."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from api.channels import Messengers
from api.config import Settings
from api.conversation import Conversation
from api.cpu import CpuPool
from api.dashboard import ContentCache
from api.handover.flow import Handover
from api.observability import Metrics
from api.pseudonyms import Pseudonyms
from api.rasa_client import RasaClient
from api.security import RateLimits
from api.shared import SharedState
from knowledge.feedback import FeedbackStore
from knowledge.outcomes import OutcomeStore
from knowledge.service import KnowledgeService


@dataclass
class AppState:
    settings: Settings
    knowledge: KnowledgeService
    feedback: FeedbackStore
    outcomes: OutcomeStore
    http: httpx.AsyncClient
    rasa: RasaClient
    conversation: Conversation
    shared: SharedState  # what replicas share (rate limits, deduplication, button payloads, messages)
    pseudonyms: Pseudonyms  # sender ids as Rasa and every store see them
    cpu: CpuPool
    limits: RateLimits
    metrics: Metrics
    messengers: Messengers
    handover: Handover
    content: ContentCache = field(default_factory=ContentCache)

    @property
    def build_name(self) -> str | None:
        """The loaded index build's folder name (``20261202T122956809660``), for operators."""
        return Path(self.knowledge.build).name if self.knowledge.build else None
