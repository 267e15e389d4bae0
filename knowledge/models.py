"""The shapes of the knowledge base: catalogue, entries and their sources."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

import locales

ENTRY_ID = re.compile(r"^[a-z]+(\.[a-z0-9-]+)+$")
REGION = re.compile(r"^(DE|DE-[A-Z]{2}|[a-z][a-z0-9-]{1,40})$")

Translation = Literal["original", "machine", "reviewed"]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=3, max_length=200)
    url: str = Field(max_length=500)

    @field_validator("url")
    @classmethod
    def _https_only(cls, url: str) -> str:
        if not re.match(r"^https://[^\s/$.?#][^\s]*$", url):
            raise ValueError("must be an https:// url")
        return url

    @property
    def host(self) -> str:
        return self.url.split("/")[2].split(":")[0].lower()


class Entry(BaseModel):
    """One topic in one language. ``body`` is simple-language Markdown."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ENTRY_ID.pattern, max_length=80)
    locale: str
    title: str = Field(min_length=3, max_length=80)
    questions: list[str] = Field(min_length=3, max_length=8)
    summary: str = Field(min_length=10, max_length=500)
    sources: list[Source] = Field(min_length=1, max_length=10)
    checked: date
    # Time-sensitive facts (amounts, rules in transition) are re-checked by this date; the validator warns after it.
    review_by: date | None = None
    region: str = Field(pattern=REGION.pattern)
    translation: Translation
    related: list[str] = Field(default_factory=list, max_length=5)
    body: str = Field(min_length=20)

    @field_validator("locale")
    @classmethod
    def _supported_locale(cls, code: str) -> str:
        if code not in locales.SUPPORTED:
            raise ValueError(f"unsupported locale {code!r}; use one of {', '.join(locales.SUPPORTED)}")
        return code

    @field_validator("questions")
    @classmethod
    def _questions_not_blank(cls, questions: list[str]) -> list[str]:
        if any(not q or not q.strip() or len(q) > 200 for q in questions):
            raise ValueError("every question needs 1-200 characters")
        return [q.strip() for q in questions]

    @property
    def key(self) -> tuple[str, str]:
        return (self.id, self.locale)

    @property
    def is_local(self) -> bool:
        """Entries of one tenant (region is a tenant id, not DE or a state)."""
        return not self.region.startswith("DE")


# Topics whose summary says where a person in danger (from others or from themselves) gets help at once. When a
# declined question comes closest to one of them, that summary comes first, before the decline (bot/replies.py): a
# person who writes about violence in words no entry expects must not be left with a button.
URGENT_HELP_TOPICS = ("counselling.violence", "counselling.mental-health")


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    names: dict[str, str]


class Topic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    category: str
    answers: str


class Catalogue(BaseModel):
    """The topics every locale must cover (``knowledge/catalogue.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int
    locales: list[str]
    categories: dict[str, Category]
    topics: dict[str, Topic]

    def topic_of(self, entry_id: str) -> str | None:
        """The catalogue topic an id belongs to: itself, or the nearest parent (``kita.costs.berlin``)."""
        parts = entry_id.split(".")
        for end in range(len(parts), 1, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.topics:
                return candidate
        return None
