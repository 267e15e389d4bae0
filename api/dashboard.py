"""The dashboard's numbers and their three forms: JSON (``StatsResponse``), CSV (one row per day) and the HTML
page (Jinja2 template with server-drawn SVG charts, German or English from the ``dashboard`` gettext domain).

The numbers come from ``knowledge.insights`` (turn counts, declined questions, feedback, content status) and
from this process's Prometheus metrics (latency, errors). The content status needs the validator over every
entry file (seconds), so it is computed off the event loop once per index build and day, then reused.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, select_autoescape

import locales
from api.charts import WEEKS_ABOVE_DAYS, Period, by_week, stacked_bars
from api.observability import Metrics
from api.schemas import ServiceHealth, StatsResponse
from knowledge import insights
from knowledge.loader import load_all
from knowledge.outcomes import OUTCOMES
from knowledge.service import KnowledgeService
from knowledge.validation import validate

if TYPE_CHECKING:  # the app state holds a ContentCache; the guards need the app state
    from api.guards import StatsQuery
    from api.state import AppState

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_LOCALES = ("de", "en")  # the dashboard is for staff of German counselling centres and maintainers
CHAT_ROUTE = "/api/v1/chat"


class ContentCache:
    """The content status of the served knowledge base, recomputed when the index build or the day changes."""

    def __init__(self) -> None:
        self._key: tuple[str | None, date] | None = None
        self._status: insights.ContentStatus | None = None
        self._lock = asyncio.Lock()

    async def get(self, knowledge: KnowledgeService, today: date) -> insights.ContentStatus:
        key = (knowledge.build, today)
        async with self._lock:
            if self._status is None or self._key != key:
                self._status = await asyncio.to_thread(_content_status, knowledge, today)
                self._key = key
        return self._status


def _content_status(knowledge: KnowledgeService, today: date) -> insights.ContentStatus:
    settings = knowledge.settings
    files = load_all(settings.entries_dir, settings.knowledge_dir.parent)
    return insights.content_status(validate(files, knowledge.catalogue, knowledge.tenants, today))


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """``histogram_quantile`` of Prometheus: cumulative (upper bound, count) buckets, linear within a bucket."""
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if bound == float("inf"):
                return lower
            return round(lower + (bound - lower) * (rank - below) / max(count - below, 1e-9), 4)
        lower, below = bound, count
    return lower


def health(metrics: Metrics) -> ServiceHealth:
    buckets: list[tuple[float, float]] = []
    errors = failed = 0
    for family in metrics.registry.collect():
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "lotse_http_request_seconds_bucket" and labels.get("route") == CHAT_ROUTE:
                buckets.append((float(labels["le"]), sample.value))
            elif sample.name == "lotse_http_requests_total" and labels.get("status", "").startswith("5"):
                errors += int(sample.value)
            elif sample.name == "lotse_chat_turns_total" and labels.get("outcome") == "error":
                failed += int(sample.value)
    buckets.sort()
    return ServiceHealth(
        chat_requests=int(buckets[-1][1]) if buckets else 0,
        chat_p50_seconds=quantile(buckets, 0.5),
        chat_p95_seconds=quantile(buckets, 0.95),
        server_errors=errors,
        failed_turns=failed,
    )


async def collect(state: AppState, query: StatsQuery, content: ContentCache) -> StatsResponse:
    tenant = query.tenant.id if query.tenant else None

    def numbers() -> tuple:
        usage = insights.usage(state.outcomes, tenant, query.start, query.end)
        gaps = insights.gaps(state.feedback.declined(tenant, query.start, query.end))
        return usage, gaps, insights.feedback(state.feedback.ratings(tenant, query.start, query.end))

    usage, gaps, feedback = await asyncio.to_thread(numbers)
    status = await content.get(state.knowledge, datetime.now(UTC).date())
    return StatsResponse(usage=usage, gaps=gaps, feedback=feedback, health=health(state.metrics), content=status)


# --- CSV -----------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("day", "tenant", "turns", "conversations", *OUTCOMES)


def to_csv(usage: insights.UsageStats) -> str:
    """One row per day: turns, conversations and each outcome (a spreadsheet for funders' reports)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for day in usage.days:
        outcomes = [day.outcomes.get(o, 0) for o in OUTCOMES]
        writer.writerow([day.day.isoformat(), usage.tenant or "all", day.turns, day.conversations, *outcomes])
    return out.getvalue()


# --- HTML ----------------------------------------------------------------------------------------------------


def page_locale(lang: str | None, accept_language: str | None) -> str:
    if lang in PAGE_LOCALES:
        return lang
    return locales.negotiate(accept_language, PAGE_LOCALES) or locales.DEFAULT


@cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(locales.translations(locale, "dashboard"), newstyle=True)
    return env


@dataclass(frozen=True)
class PageContext:
    stats: StatsResponse
    locale: str
    tenants: list[tuple[str, str]]  # (id, name) the viewer may choose; empty for a tenant's own token
    query: StatsQuery


def render_page(page: PageContext) -> str:
    usage = page.stats.usage
    days = [Period(d.day, {"turns": d.turns, **d.channels, **d.locales, **d.outcomes}) for d in usage.days]
    periods = by_week(days) if len(days) > WEEKS_ABOVE_DAYS else days
    channels = sorted({c for d in usage.days for c in d.channels})
    used_locales = sorted({code for d in usage.days for code in d.locales}, key=lambda c: -usage_turns(usage, c))
    names = {code: locales.info(code).name for code in locales.SUPPORTED}
    charts = {
        "channels": stacked_bars(periods, channels, {}),
        "locales": stacked_bars(periods, used_locales, names),
        "outcomes": stacked_bars(periods, list(OUTCOMES), {}),
    }
    return (
        _environment(page.locale)
        .get_template("dashboard.html")
        .render(
            page=page,
            stats=page.stats,
            usage=usage,
            periods=periods,
            weekly=len(periods) != len(days),
            charts=charts,
            channels=channels,
            used_locales=used_locales,
            locale_names=names,
            outcomes=OUTCOMES,
        )
    )


def usage_turns(usage: insights.UsageStats, locale: str) -> int:
    return sum(d.locales.get(locale, 0) for d in usage.days)
