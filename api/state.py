"""Long-lived resources of one API process, created in the app's lifespan and closed there."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from api.config import Settings
from api.conversation import Conversation
from api.observability import Metrics
from api.rasa_client import RasaClient
from api.security import RateLimits
from knowledge.service import KnowledgeService


@dataclass
class AppState:
    settings: Settings
    knowledge: KnowledgeService
    http: httpx.AsyncClient
    rasa: RasaClient
    conversation: Conversation
    limits: RateLimits
    metrics: Metrics
