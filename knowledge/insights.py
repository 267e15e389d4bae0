"""The numbers of the dashboard, for one tenant (or all) and a period: pure functions over the stores' rows
and the validator's report. The models are the JSON of ``GET /api/v1/stats`` as well.

- turns and conversations per day, by channel, language and outcome (``knowledge.outcomes``);
- the topics answered most per language, and how many answers came in the user's own language;
- "what to write next": declined questions by boundary subject, and the rest clustered by their words;
- feedback per entry, least helpful first;
- content status: coverage topic x locale, machine translations awaiting review, entries past their
  ``review_by`` or checked more than 12 months ago, and the validator's other warnings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from pydantic import BaseModel, Field

from knowledge.boundaries import GENERAL_PREFIX
from knowledge.feedback import Declined, EntryRating
from knowledge.outcomes import OUTCOMES, Outcome, OutcomeStore
from knowledge.text import lexical_tokens
from knowledge.validation import Report

MIN_GROUP = 3  # a group of declined questions shows texts only when asked at least this often
MAX_EXAMPLES = 3
TOP_TOPICS = 10
SIMILAR = 0.5  # Jaccard similarity of word sets above which two declined questions are one subject
MAX_CLUSTERED = 3000  # distinct questions clustered; rarer ones count as asked rarely


class DayCounts(BaseModel):
    day: date
    turns: int = 0
    conversations: int = 0
    outcomes: dict[Outcome, int] = Field(default_factory=dict)
    channels: dict[str, int] = Field(default_factory=dict)
    locales: dict[str, int] = Field(default_factory=dict)


class TopicCount(BaseModel):
    locale: str
    topic: str
    turns: int


class LanguageShare(BaseModel):
    answers: int = Field(description="Turns answered from an entry.")
    own_language: int = Field(description="... of them from an entry in the user's language.")
    fallback: int = Field(description="... of them from the German or English entry, the language lacking it.")


class GapGroup(BaseModel):
    """Declined questions about one subject: a boundary subject, or a cluster of similar questions."""

    subject: str | None = Field(description="Boundary subject (knowledge/boundaries), None for a cluster.")
    locale: str | None = Field(description="The language of a cluster; None for a subject (all languages).")
    count: int
    examples: list[str] = Field(description=f"Scrubbed question texts; only for groups asked {MIN_GROUP}+ times.")


class Gaps(BaseModel):
    groups: list[GapGroup]
    rarely_asked: int = Field(description=f"Declined questions in clusters asked fewer than {MIN_GROUP} times.")


class EntryFeedback(BaseModel):
    entry_id: str
    locale: str
    helpful: int
    unhelpful: int


class EntryRef(BaseModel):
    entry_id: str
    locale: str
    detail: str = ""


class ContentStatus(BaseModel):
    coverage: dict[str, dict[str, bool]] = Field(description="Topic x locale: is there a served entry?")
    machine_translations: list[EntryRef]
    review_due: list[EntryRef]
    stale: list[EntryRef]
    warnings: list[str]


class UsageStats(BaseModel):
    tenant: str | None = Field(description="None: all tenants (admin only).")
    start: date
    end: date
    turns: int
    conversations: int
    outcomes: dict[Outcome, int]
    days: list[DayCounts]
    topics: list[TopicCount] = Field(description=f"The {TOP_TOPICS} topics answered most, per language.")
    language: LanguageShare


# --- turns ---------------------------------------------------------------------------------------------------


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def usage(store: OutcomeStore, tenant: str | None, start: date, end: date) -> UsageStats:
    """Every turn count of the period, by day (zeros for quiet days), outcome, channel, language and topic."""
    days = {d: DayCounts(day=d) for d in days_between(start, end)}
    outcomes: Counter[str] = Counter(dict.fromkeys(OUTCOMES, 0))
    fallbacks = answers = 0
    # One small query per breakdown: sums of a few thousand groups are far cheaper than fetching every row.
    for total in store.totals(("day", "channel"), start, end, tenant):
        counts = days[date.fromisoformat(total.key[0])]
        counts.channels[total.key[1]] = total.turns
        counts.turns += total.turns
        counts.conversations += total.conversations
        fallbacks += total.fallbacks
    for total in store.totals(("day", "locale"), start, end, tenant):
        days[date.fromisoformat(total.key[0])].locales[total.key[1]] = total.turns
    for total in store.totals(("day", "outcome"), start, end, tenant):
        days[date.fromisoformat(total.key[0])].outcomes[total.key[1]] = total.turns
        outcomes[total.key[1]] += total.turns
    per_locale: dict[str, list[TopicCount]] = defaultdict(list)
    for total in store.totals(("locale", "topic"), start, end, tenant):
        locale, topic = total.key
        if topic:
            per_locale[locale].append(TopicCount(locale=locale, topic=topic, turns=total.turns))
            answers += total.turns
    topics = [
        t for locale in sorted(per_locale) for t in sorted(per_locale[locale], key=lambda t: -t.turns)[:TOP_TOPICS]
    ]
    return UsageStats(
        tenant=tenant,
        start=start,
        end=end,
        turns=sum(d.turns for d in days.values()),
        conversations=sum(d.conversations for d in days.values()),
        outcomes=dict(outcomes),
        days=list(days.values()),
        topics=topics,
        language=LanguageShare(answers=answers, own_language=answers - fallbacks, fallback=fallbacks),
    )


# --- what to write next --------------------------------------------------------------------------------------


def gaps(declined: Iterable[Declined]) -> Gaps:
    """Boundary subjects with their counts, and clusters of the other declined questions (per language) by the
    overlap of their word stems; texts only for groups asked at least ``MIN_GROUP`` times."""
    by_subject: dict[str, list[Declined]] = defaultdict(list)
    rest: list[Declined] = []
    for row in declined:
        if row.subject and not row.subject.startswith(GENERAL_PREFIX):
            by_subject[row.subject].append(row)
        else:
            rest.append(row)
    groups = [_group(subject, None, rows) for subject, rows in by_subject.items()]
    rest.sort(key=lambda r: (-r.count, r.normalized))
    rarely = sum(r.count for r in rest[MAX_CLUSTERED:])
    for cluster_rows in _clusters(rest[:MAX_CLUSTERED]):
        group = _group(None, cluster_rows[0].locale, cluster_rows)
        if group.count >= MIN_GROUP:
            groups.append(group)
        else:
            rarely += group.count
    groups.sort(key=lambda g: (-g.count, g.subject or "", g.examples[:1]))
    return Gaps(groups=groups, rarely_asked=rarely)


def _group(subject: str | None, locale: str | None, rows: Sequence[Declined]) -> GapGroup:
    count = sum(r.count for r in rows)
    examples = [r.question for r in sorted(rows, key=lambda r: -r.count)[:MAX_EXAMPLES]] if count >= MIN_GROUP else []
    return GapGroup(subject=subject, locale=locale, count=count, examples=examples)


def _clusters(rows: Sequence[Declined]) -> list[list[Declined]]:
    """Greedy single pass, most asked first: a question joins the first cluster (of its language) whose first
    question shares at least ``SIMILAR`` of their word stems; an inverted index keeps it linear in practice."""
    clusters: list[list[Declined]] = []
    heads: list[set[str]] = []
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in rows:
        tokens = set(lexical_tokens(row.normalized, locale=row.locale))
        candidates = sorted({i for t in tokens for i in index[(row.locale, t)]})
        found = next((i for i in candidates if _jaccard(tokens, heads[i]) >= SIMILAR), None)
        if found is None:
            clusters.append([row])
            heads.append(tokens)
            for token in tokens:
                index[(row.locale, token)].append(len(clusters) - 1)
        else:
            clusters[found].append(row)
    return clusters


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def feedback(ratings: Iterable[EntryRating]) -> list[EntryFeedback]:
    return [
        EntryFeedback(entry_id=r.entry_id, locale=r.locale, helpful=r.helpful, unhelpful=r.unhelpful) for r in ratings
    ]


# --- content -------------------------------------------------------------------------------------------------


def _by_entry(found: tuple) -> tuple[str, str]:
    entry = found[0]
    return (entry.id, entry.locale) if entry else ("", "")


def content_status(report: Report) -> ContentStatus:
    """The validator's report, arranged for maintainers: its review-due and stale warnings by entry."""
    entry_at = {str(f.path.relative_to(f.path.parents[3])): f.entry for f in report.files if f.entry}

    def refs(code: str) -> list[EntryRef]:
        found = [(entry_at.get(p.path), p.message) for p in report.warnings if p.code == code]
        return [EntryRef(entry_id=e.id, locale=e.locale, detail=m) for e, m in sorted(found, key=_by_entry) if e]

    return ContentStatus(
        coverage=report.coverage,
        machine_translations=sorted(
            (EntryRef(entry_id=e.id, locale=e.locale) for e in report.entries if e.translation == "machine"),
            key=lambda r: (r.entry_id, r.locale),
        ),
        review_due=refs("review-due"),
        stale=refs("stale"),
        warnings=[str(p) for p in report.warnings if p.code not in ("review-due", "stale", "coverage")],
    )
