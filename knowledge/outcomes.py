"""What each chat turn came to, as daily counts: per tenant, locale, channel, topic and outcome.

Counts only: no session or user identifier and no message text is stored, so the rows need no retention
limit. The table lives in the same database as the feedback (``knowledge.database``: SQLite, or PostgreSQL
when ``LOTSE_DATABASE_URL`` is set). The SQL is plain standard SQL (the upsert is ``INSERT ... ON CONFLICT
... DO UPDATE``, which SQLite and PostgreSQL both understand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal, get_args

from knowledge.database import Database, open_database

# New outcomes go last: the CSV export has one column per outcome, in this order.
Outcome = Literal[
    "answered",
    "asked_back",
    "declined",
    "handed_over",
    "degraded",
    "other",
    "answered_with_caution",
    "declined_with_topics",  # declined, with close topics offered as buttons
    "answered_follow_up",  # a short message answered by reading it with the same person's question before
    "declined_with_urgent_help",  # declined, with an urgent-help topic's emergency numbers first (bot/replies.py)
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
Dimension = Literal["day", "locale", "channel", "topic", "outcome"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS turn_counts (
        day TEXT NOT NULL, tenant TEXT NOT NULL, locale TEXT NOT NULL, channel TEXT NOT NULL,
        topic TEXT NOT NULL, outcome TEXT NOT NULL,
        turns INTEGER NOT NULL, conversations INTEGER NOT NULL, fallbacks INTEGER NOT NULL,
        PRIMARY KEY (tenant, day, locale, channel, topic, outcome)
    )""",
    # A covering index in the order the dashboard groups by: its queries read the index alone.
    """CREATE INDEX IF NOT EXISTS turn_counts_by_tenant ON turn_counts
        (tenant, day, channel, locale, outcome, topic, turns, conversations, fallbacks)""",
)
ALL_TENANTS = "*"  # rows under this tenant sum every tenant's (not a valid tenant id), so that all are as quick as one
_UPSERT = """
INSERT INTO turn_counts (day, tenant, locale, channel, topic, outcome, turns, conversations, fallbacks)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant, day, locale, channel, topic, outcome) DO UPDATE SET
    turns = turn_counts.turns + excluded.turns,
    conversations = turn_counts.conversations + excluded.conversations,
    fallbacks = turn_counts.fallbacks + excluded.fallbacks
"""


@dataclass(frozen=True)
class TurnCount:
    """One recorded turn, or the sum of many (``turns``); ``conversations`` counts the turns that began one,
    ``fallbacks`` the answers given from an entry in another language than the user's."""

    day: date
    tenant: str
    locale: str
    channel: str
    topic: str  # the catalogue topic answered, "" when there is none
    outcome: Outcome
    turns: int = 1
    conversations: int = 0
    fallbacks: int = 0


@dataclass(frozen=True)
class Total:
    key: tuple[str, ...]  # the values of the dimensions grouped by, in their order
    turns: int
    conversations: int
    fallbacks: int


class OutcomeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.create(SCHEMA)

    @classmethod
    def open(cls, location: str | Path) -> OutcomeStore:
        """A store on a database of its own (``open_database``); ``close`` closes it."""
        return cls(open_database(location))

    def close(self) -> None:
        self.db.close()

    def add(self, count: TurnCount) -> None:
        """Count a turn for its tenant and in the sums over all tenants."""
        for tenant in (count.tenant, ALL_TENANTS):
            self.db.execute(
                _UPSERT,
                (
                    count.day.isoformat(),
                    tenant,
                    count.locale,
                    count.channel,
                    count.topic,
                    count.outcome,
                    count.turns,
                    count.conversations,
                    count.fallbacks,
                ),
            )

    def totals(self, by: Sequence[Dimension], start: date, end: date, tenant: str | None = None) -> list[Total]:
        """Sums grouped by ``by`` for the days ``start`` to ``end`` (inclusive), of one tenant or of all (None)."""
        unknown = [d for d in by if d not in DIMENSIONS]
        if unknown or not by:
            raise ValueError(f"group by one or more of {DIMENSIONS}, not {list(by)}")
        columns = ", ".join(by)  # only names from DIMENSIONS reach the SQL
        rows = self.db.fetch(
            f"SELECT {columns}, SUM(turns), SUM(conversations), SUM(fallbacks) FROM turn_counts "
            f"WHERE tenant = ? AND day BETWEEN ? AND ? GROUP BY {columns} ORDER BY {columns}",
            (ALL_TENANTS if tenant is None else tenant, start.isoformat(), end.isoformat()),
        )
        width = len(by)
        return [Total(tuple(row[:width]), *(int(v) for v in row[width:])) for row in rows]
