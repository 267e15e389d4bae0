"""Tenants: counselling centres and municipalities that embed Lotse with their own contacts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from knowledge.problems import Problem, error, read_yaml_model
from locales import DEFAULT, SUPPORTED

TENANT_ID = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
COLOUR = r"^#[0-9a-fA-F]{6}$"
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$", re.IGNORECASE)  # scheme://host[:port], no path

Localized = dict[str, str]


def pick(text: Localized, locale: str) -> str:
    """The text in ``locale``, else German, else English, else any."""
    for code in (locale, DEFAULT, "en"):
        if text.get(code):
            return text[code]
    return next(iter(text.values()), "")


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Localized
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
    address: str | None = None
    hours: Localized = Field(default_factory=dict)
    languages: list[str] = Field(default_factory=list)
    url: str | None = Field(default=None, pattern=r"^https://")


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: str = Field(default="#0b5cad", pattern=COLOUR)
    on_primary: str = Field(default="#ffffff", pattern=COLOUR)


ENV_NAME = r"^[A-Z][A-Z0-9_]{1,63}$"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class OpeningHours(BaseModel):
    """When counsellors answer in the chat: weekdays (1 = Monday) and a time span in the tenant's time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: list[int] = Field(min_length=1)
    start: time
    end: time

    @field_validator("days")
    @classmethod
    def _weekdays(cls, days: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in days):
            raise ValueError("days are 1 (Monday) to 7 (Sunday)")
        return days

    @model_validator(mode="after")
    def _start_before_end(self) -> OpeningHours:
        if self.start >= self.end:
            raise ValueError(f"start {self.start} is not before end {self.end}")
        return self


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template that invites the person back when Meta's 24-hour window has closed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="de", pattern=r"^[a-z]{2}(_[A-Z]{2})?$")


class LiveHandover(BaseModel):
    """A counselling platform where counsellors take over the chat (see docs/handover-zammad.md). Secrets are
    never in the file: it names the environment variables that hold them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    adapter: Literal["zammad"]
    url: str  # the platform's base URL, https (plain http only on this machine, for tests and trials)
    token_env: str = Field(pattern=ENV_NAME)  # API token of the platform user Lotse acts as
    webhook_secret_env: str = Field(pattern=ENV_NAME)  # the shared secret that signs the platform's webhooks
    group: str = Field(min_length=1, max_length=160)
    timezone: str = "Europe/Berlin"
    hours: list[OpeningHours] = Field(default_factory=list)  # empty: counsellors answer at any time
    ticket_field: str | None = Field(default="lotse", pattern=r"^[a-z][a-z0-9_]{0,59}$")  # marks bot tickets
    whatsapp_template: WhatsAppTemplate | None = None

    @field_validator("url")
    @classmethod
    def _secure_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return url.rstrip("/")
        if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
            return url.rstrip("/")
        raise ValueError("url must be https:// (http:// only for 127.0.0.1 or localhost)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        return zone

    def is_open(self, moment: datetime) -> bool:
        """Whether counsellors answer at ``moment`` (timezone-aware)."""
        if not self.hours:
            return True
        local = moment.astimezone(ZoneInfo(self.timezone))
        return any(
            local.isoweekday() in h.days and h.start <= local.time().replace(tzinfo=None) < h.end for h in self.hours
        )


class Tenant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=TENANT_ID.pattern)
    name: Localized
    example: bool = False  # fictional data for demos; the widget labels it
    region: str = Field(default="DE", pattern=r"^DE(-[A-Z]{2})?$")
    locales: list[str] = Field(default_factory=lambda: list(SUPPORTED))
    default_locale: str = DEFAULT
    origins: list[str] = Field(default_factory=list)
    theme: Theme = Field(default_factory=Theme)
    contacts: list[Contact] = Field(default_factory=list)
    hints: dict[str, Localized] = Field(default_factory=dict)  # local notes for guided checks, e.g. "kita"
    # SHA-256 (hex) of the token that opens this tenant's dashboard (README, "The dashboard").
    dashboard_token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    live_handover: LiveHandover | None = None  # counsellors answer in the chat (else: contacts only)

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, codes: list[str]) -> list[str]:
        unknown = [c for c in codes if c not in SUPPORTED]
        if unknown:
            raise ValueError(f"unsupported locales: {', '.join(unknown)}")
        return codes

    @field_validator("origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        """Each site by its exact origin: a wildcard would let any site use this tenant's name and contacts."""
        for origin in origins:
            if "*" in origin:
                raise ValueError(
                    f"origin {origin!r}: wildcards are not allowed; list each site, e.g. https://example.org"
                )
            if not ORIGIN.match(origin.rstrip("/")):
                raise ValueError(f"origin {origin!r} is not scheme://host[:port] (e.g. https://example.org)")
        return [origin.rstrip("/") for origin in origins]

    @model_validator(mode="after")
    def _default_is_enabled(self) -> Tenant:
        if self.default_locale not in self.locales:
            raise ValueError(f"default_locale {self.default_locale!r} is not in locales")
        return self

    def display_name(self, locale: str) -> str:
        return pick(self.name, locale)

    def hint(self, topic: str, locale: str) -> str | None:
        return pick(self.hints[topic], locale) if topic in self.hints else None

    def allows_origin(self, origin: str | None) -> bool:
        return origin is None or origin.rstrip("/") in self.origins


def find_tenant(tenants: Mapping[str, Tenant], tenant_id: str | None, default_id: str) -> Tenant | None:
    """The one tenant lookup: the tenant ``tenant_id`` names, the default tenant when it names none, None when
    the id is unknown (the API answers 404; the bot falls back to the default tenant, see bot/context.py)."""
    return tenants.get(tenant_id or default_id)


def load_tenants(tenants_dir: Path) -> tuple[dict[str, Tenant], list[Problem]]:
    tenants: dict[str, Tenant] = {}
    problems: list[Problem] = []
    for path in sorted(tenants_dir.glob("*.yaml")):
        shown = f"{tenants_dir.name}/{path.name}"
        tenant, found = read_yaml_model(path, shown, Tenant)
        problems += found
        if tenant is None:
            continue
        if tenant.id != path.stem:
            problems.append(error(shown, f"id {tenant.id!r} differs from the file name", None, "id-file"))
            continue
        tenants[tenant.id] = tenant
    return tenants, problems
