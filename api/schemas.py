"""Request and response models: the public contract, published as the OpenAPI schema."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from knowledge.insights import ContentStatus, EntryFeedback, Gaps, UsageStats
from knowledge.models import Source
from knowledge.text import clean_message

SESSION_PATTERN = r"^[A-Za-z0-9_.:-]+$"


class ErrorDetail(BaseModel):
    code: str = Field(examples=["unknown_tenant"])
    message: str = Field(examples=["Unknown tenant 'x'."])


class ErrorResponse(BaseModel):
    error: ErrorDetail


class ChatRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"session_id": "b7f0c2", "message": "Wie melde ich meine neue Wohnung an?", "locale": "de"}]
        },
    )

    session_id: str = Field(
        min_length=1,
        max_length=128,
        pattern=SESSION_PATTERN,
        description="Chosen by the client; keeps the conversation together.",
    )
    message: str = Field(min_length=1, max_length=2000, description="The user's text or a button payload.")
    locale: str | None = Field(default=None, description="One of GET /api/v1/locales; detected when omitted.")
    tenant: str | None = Field(default=None, max_length=41, description="Tenant id; the default tenant when omitted.")

    @field_validator("message")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        cleaned = clean_message(value)
        if not cleaned:
            raise ValueError("message must contain text")
        return cleaned


class Button(BaseModel):
    title: str
    payload: str


class ChatMessage(BaseModel):
    text: str
    buttons: list[Button] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    entry_id: str | None = None
    checked: date | None = Field(default=None, description="When the entry's facts were last checked.")
    kind: str | None = Field(
        default=None, description="What the message is: answer, menu (first screen, topic list), feedback, ..."
    )
    cautious: bool = Field(
        default=False,
        description="An answer given as general information: it opens with a note that one's own case may "
        "differ, and its buttons offer a person (after a guided check where the topic has one).",
    )


class ChatResponse(BaseModel):
    session_id: str
    locale: str
    messages: list[ChatMessage]
    handover: bool = Field(description="True when the answer offers contact with a person.")
    with_counsellor: bool = Field(
        default=False,
        description="True while a counsellor owns the conversation: their replies arrive at "
        "GET /api/v1/chat/{session_id}/events (server-sent events) or /replies (polling).",
    )
    degraded: bool = Field(
        default=False,
        description="True when the dialogue service was unavailable and the "
        "answer came from the knowledge search alone.",
    )


class SearchResultItem(BaseModel):
    id: str
    title: str
    score: float
    locale: str
    snippet: str


class SearchResponse(BaseModel):
    query: str
    locale: str
    answerable: bool
    close: bool = Field(
        default=False,
        description="Not answerable, but the first results are close to the question: the chat offers them as "
        "topics to look at, not as an answer.",
    )
    results: list[SearchResultItem]


class EntryResponse(BaseModel):
    id: str
    locale: str
    title: str
    body: str
    summary: str
    sources: list[Source]
    checked: date
    translation: Literal["original", "machine", "reviewed"]
    related: list[str]
    fallback: bool = Field(
        default=False,
        description="True when the entry is not available in the requested "
        "locale and is shown in German or English instead.",
    )


class LocaleItem(BaseModel):
    code: str
    name: str = Field(description="Endonym, e.g. العربية")
    english_name: str
    rtl: bool


class TenantConfig(BaseModel):
    id: str
    name: str
    example: bool
    locales: list[str]
    default_locale: str
    primary_colour: str
    on_primary_colour: str


class UiTexts(BaseModel):
    locale: str
    rtl: bool
    texts: dict[str, str]


class HealthResponse(BaseModel):
    status: Literal["ok"]


class ReadinessResponse(BaseModel):
    status: Literal["ready", "degraded", "not_ready"]
    index: str | None
    rasa: bool
    reasons: list[str] = Field(default_factory=list)


class ServiceHealth(BaseModel):
    """Of this API process since it started (Prometheus metrics), not of the period."""

    chat_requests: int
    chat_p50_seconds: float | None = Field(description="Median latency of POST /api/v1/chat (histogram estimate).")
    chat_p95_seconds: float | None
    server_errors: int = Field(description="Responses with a 5xx status.")
    failed_turns: int = Field(description="Messenger turns that failed and got a 'try again' notice.")


class StatsResponse(BaseModel):
    """Everything the dashboard shows, for one tenant (or all, for the admin) and a period."""

    usage: UsageStats
    gaps: Gaps = Field(description="What to write next: declined questions by subject.")
    feedback: list[EntryFeedback] = Field(description="Did this help? per entry, least helpful first.")
    health: ServiceHealth
    content: ContentStatus
